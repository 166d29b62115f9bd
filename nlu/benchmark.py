"""Figures for `lotse nlu bench`: training time, latency, throughput, memory, model size.

Wall-clock latency includes time the process waits for a CPU; on a busy machine (load
average above the core count) the 99th percentile shows the scheduler's time slice, so
the CPU time of the parsing thread is printed too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from core.settings import Settings
from nlu.corpus import Example
from nlu.decision import FallbackPolicy
from nlu.model import save_model
from nlu.service import BuiltinClassifier, current_data_hash, policy_from
from nlu.training import train_model

# Run in a fresh interpreter so RSS shows what a serving process pays, not the trainer.
_RSS_PROBE = """
import json, sys
from pathlib import Path
from nlu.model import load_model
from nlu.service import BuiltinClassifier
from nlu.decision import FallbackPolicy
model = load_model(Path(sys.argv[1]))
classifier = BuiltinClassifier(model, FallbackPolicy(0.35, 0.08, model.emergency_floor))
classifier.parse("Ich brauche einen Termin")
rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")][0]
print(json.dumps({"rss_mb": rss / 1024, "sklearn_loaded": "sklearn" in sys.modules}))
"""


@dataclass
class BenchFigures:
    examples: int
    train_seconds: float
    p50_ms: float
    p99_ms: float
    cpu_p50_ms: float
    cpu_p99_ms: float
    load_average: float
    batch_messages_per_s: float
    threaded_messages_per_s: float
    rss_after_load_mb: float
    sklearn_loaded_for_serving: bool
    model_mb: float

    def render(self) -> str:
        return "\n".join(
            f"{key:28} {value:.3f}" if isinstance(value, float) else f"{key:28} {value}"
            for key, value in asdict(self).items()
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_benchmark(
    settings: Settings,
    train: Sequence[Example],
    messages: Sequence[str],
    model_path: Path,
    data_dir: Path,
) -> BenchFigures:
    policy = FallbackPolicy(settings.nlu_threshold, settings.nlu_margin, 0.15)
    started = time.perf_counter()
    model, _ = train_model(train, current_data_hash(data_dir), policy)
    train_seconds = time.perf_counter() - started
    save_model(model, model_path)
    classifier = BuiltinClassifier(model, policy_from(settings, model))
    for text in messages[:200]:
        classifier.parse(text)
    latencies, cpu = [], []
    for text in messages:
        begin, begin_cpu = time.perf_counter(), time.thread_time()
        classifier.parse(text)
        cpu.append((time.thread_time() - begin_cpu) * 1000)
        latencies.append((time.perf_counter() - begin) * 1000)
    begin = time.perf_counter()
    for text in messages:
        classifier.parse(text)
    batch_rate = len(messages) / (time.perf_counter() - begin)
    begin = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(classifier.parse, messages))
    threaded_rate = len(messages) / (time.perf_counter() - begin)
    probe = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, str(model_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    memory = json.loads(probe.stdout)
    return BenchFigures(
        examples=len(train),
        train_seconds=train_seconds,
        p50_ms=_percentile(latencies, 0.5),
        p99_ms=_percentile(latencies, 0.99),
        cpu_p50_ms=_percentile(cpu, 0.5),
        cpu_p99_ms=_percentile(cpu, 0.99),
        load_average=os.getloadavg()[0],
        batch_messages_per_s=batch_rate,
        threaded_messages_per_s=threaded_rate,
        rss_after_load_mb=float(memory["rss_mb"]),
        sklearn_loaded_for_serving=bool(memory["sklearn_loaded"]),
        model_mb=model_path.stat().st_size / 1e6,
    )
