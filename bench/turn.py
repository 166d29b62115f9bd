"""The dialogue turn alone, in one process: no HTTP, no channel, the real engine and database.

What one message costs in the app before any channel work: finding the person, the
conversation under lock, the flows, the NLU, the counters and the replay record; for Telegram
also the delivery mark. The same simulated people as the load benchmark, one at a time.
"""

from __future__ import annotations

import cProfile
import pstats
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.simulator import Step, User, question_pool
from bot.engine import DialogueEngine
from bot.replies import Incoming
from bot.telegram.adapter import webhook_answer
from core.person import Channel


@dataclass
class TurnReport:
    database: str
    turns: int
    seconds: float
    cpu_seconds: float
    replies: int
    p50_ms: float
    p99_ms: float
    labels: dict[str, int]

    @property
    def per_turn_ms(self) -> float:
        return self.seconds / self.turns * 1000

    def describe(self) -> str:
        mix = ", ".join(f"{k} {v}" for k, v in sorted(self.labels.items()))
        return (
            f"turn: {self.database}, {self.turns} turns in {self.seconds:.2f} s\n"
            f"  per turn        {self.per_turn_ms:.2f} ms (p50 {self.p50_ms:.2f} ms, p99 {self.p99_ms:.2f} ms)\n"
            f"  app CPU         {self.cpu_seconds / self.turns * 1000:.2f} ms per turn; {self.replies / self.turns:.2f} replies per turn\n"
            f"  turns/s         {self.turns / self.seconds:.0f} on one core\n"
            f"  mix             {mix}"
        )


def incoming_for(user: User, step: Step, key: int) -> Incoming:
    channel = Channel.TELEGRAM if user.channel == "telegram" else Channel.WEBCHAT
    external = str(user.ident) if channel is Channel.TELEGRAM else user.token
    update_key = str(key) if channel is Channel.TELEGRAM else f"e{key}"
    if step.kind == "start":
        return Incoming(channel, external, update_key, command="start", language_hint=user.language,
                        municipality_hint=user.place)
    if step.kind == "command":
        return Incoming(channel, external, update_key, command=step.value.lstrip("/"))
    if step.kind == "action":
        return Incoming(channel, external, update_key, action=step.value)
    return Incoming(channel, external, update_key, text=step.value)


@contextmanager
def _profiled(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(str(path))
        pstats.Stats(str(path)).sort_stats("cumulative").print_stats(40)


def run_turns(dialogue: DialogueEngine, turns: int, users: int, seed: int = 7, profile: Path | None = None) -> TurnReport:
    rng = random.Random(seed)
    pool = question_pool()
    people = [User("telegram" if i % 2 else "webchat", 700_000 + i, rng, pool, 0.1) for i in range(users)]
    timings: list[float] = []
    labels: dict[str, int] = {}
    key = seed * 10_000_000  # update keys unique across runs: no replays
    with _profiled(profile):
        started, cpu_started = time.perf_counter(), time.process_time()
        replies_total = 0
        while len(timings) < turns:
            user = rng.choice(people)
            if user.done:
                continue
            try:
                step = user.next_step()
            except LookupError:
                user.plan = []
                step = Step("action", "menu", "menu")
            if step is None:
                continue
            key += 1
            incoming = incoming_for(user, step, key)
            began = time.perf_counter()
            replies = dialogue.handle(incoming)
            if incoming.channel is Channel.TELEGRAM:  # as the webhook does: the last reply
                answered = bool(replies) and webhook_answer(incoming.external_id, replies[-1]) is not None
                sent = replies[:-1] if answered else replies  # goes back in the HTTP answer
                for index in range(len(sent)):
                    dialogue.delivered(incoming, not answered and index + 1 == len(sent))
            timings.append(time.perf_counter() - began)
            replies_total += len(replies)
            user.events += 1
            user.buttons = [b.action for r in replies for row in r.buttons for b in row] or user.buttons
            if step.value.startswith("book:slot:"):
                user.done = True
            labels[step.label] = labels.get(step.label, 0) + 1
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    timings.sort()
    return TurnReport(
        database=dialogue.services.db.dialect.name,
        turns=len(timings),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        replies=replies_total,
        p50_ms=timings[len(timings) // 2] * 1000,
        p99_ms=timings[int(len(timings) * 0.99)] * 1000,
        labels=labels,
    )
