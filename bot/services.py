"""The collaborators of the dialogue engine, built by the composition root."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from bot.places import PlaceIndex
from bot.strings import Strings
from content.library import ContentLibrary
from core.crypto import FieldCipher
from core.municipality import Municipality, MunicipalityKind
from core.settings import Settings
from nlu.service import Classifier


@dataclass
class BotServices:
    settings: Settings
    db: Engine
    library: ContentLibrary
    classifier: Classifier
    cipher: FieldCipher
    strings: Strings
    places: PlaceIndex
    municipalities: MunicipalityCache = field(default_factory=lambda: MunicipalityCache())


class MunicipalityCache:
    """The municipalities (a few dozen rows that change only when content is synced), read
    whole and kept for `ttl` seconds: every turn needs its place, and onboarding its list.

    Rows handed out are detached snapshots, never expired by a session's rollback; `get`
    merges one into the caller's session without a query."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._rows: dict[int, Municipality] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def _snapshot(self, session: Session) -> dict[int, Municipality]:
        now = time.monotonic()
        with self._lock:
            if now - self._read_at <= self.ttl:
                return self._rows
        rows: dict[int, Municipality] = {}
        for row in session.exec(select(Municipality)):
            copy = Municipality(**row.model_dump())
            make_transient_to_detached(copy)
            assert copy.id is not None
            rows[copy.id] = copy
        with self._lock:
            self._rows, self._read_at = rows, now
        return rows

    def get(self, session: Session, municipality_id: int) -> Municipality | None:
        row = self._snapshot(session).get(municipality_id)
        if row is None:  # newer than the snapshot?
            with self._lock:
                self._read_at = float("-inf")
            row = self._snapshot(session).get(municipality_id)
        return session.merge(row, load=False) if row is not None else None

    def by_slug(self, session: Session, slug: str) -> Municipality | None:
        """A read-only snapshot."""
        return next((m for m in self._snapshot(session).values() if m.slug == slug), None)

    def choosable(self, session: Session) -> list[Municipality]:
        """Places a newcomer picks from (no state, no town inside a Kreis), by name; read-only."""
        rows = self._snapshot(session).values()
        return sorted(
            (m for m in rows if m.kind not in (MunicipalityKind.STATE, MunicipalityKind.TOWN)), key=lambda m: m.name
        )
