"""Benchmarks that print figures: load through the real channels, and the fault run."""
