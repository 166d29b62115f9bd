"""The benchmarks themselves, briefly: real app processes behind the Telegram webhook and the
web-chat API, and a SIGKILL in the middle. Figures are not judged here (see `lotse bench`),
only that nothing is lost or doubled and that the tooling measures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fault import FaultConfig, run_fault
from bench.load import LoadConfig, run_load
from tests.database import POSTGRES_URL

pytestmark = [pytest.mark.db, pytest.mark.slow]


def test_load_through_both_channels_answers_every_message(tmp_path: Path, nlu_model_path: Path) -> None:
    report = run_load(
        LoadConfig(
            database_url=POSTGRES_URL, processes=2, rate=25, duration=6, warmup=3, users=40,
            booking_share=0.3, work_dir=tmp_path, model_path=nlu_model_path,
        )
    )
    assert report.messages >= 100
    assert report.by_channel["telegram"]["messages"] > 0 and report.by_channel["webchat"]["messages"] > 0
    assert report.lost == 0 and report.duplicated == 0
    assert not {k for k in report.errors if not k.startswith("booking without")}, report.errors
    assert 0 < report.p50_ms <= report.p99_ms <= report.max_ms
    assert all(0 < s < 60 for s in report.startup_s)
    assert all(rss > 50 for rss in report.app_peak_rss_mb)


def test_sigkill_of_app_and_scheduler_loses_no_reply_booking_or_reminder(tmp_path: Path, nlu_model_path: Path) -> None:
    report = run_fault(
        FaultConfig(
            database_url=POSTGRES_URL, duration=45, rate=15, users=40, app_kill_every=12,
            scheduler_kill_every=18, booking_share=0.5, work_dir=tmp_path, model_path=nlu_model_path,
        )
    )
    assert report.app_kills >= 1 and report.scheduler_kills >= 1
    assert report.gave_up == 0
    assert report.replies_lost == 0, report.details
    # A reply (or reminder) in flight at the instant of a SIGKILL may go out twice: the Bot API
    # has no idempotency key. At most one per kill, never more.
    assert report.replies_duplicated <= report.app_kills, report.details
    assert report.bookings_lost == 0 and report.bookings_doubled == 0, report.details
    assert report.bookings_in_database == report.bookings_confirmed + report.bookings_without_confirmation
    assert report.reminders_missing == 0, report.details
    assert report.reminders_twice <= report.scheduler_kills, report.details
