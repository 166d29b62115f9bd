"""The collaborators of the dialogue engine, built by the composition root."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel

from bot.places import PlaceIndex
from bot.strings import Strings
from content.library import ContentLibrary
from core.crypto import FieldCipher
from core.municipality import Municipality
from core.settings import Settings
from nlu.service import Classifier

Row = TypeVar("Row", bound=SQLModel)


@dataclass
class BotServices:
    settings: Settings
    db: Engine
    library: ContentLibrary
    classifier: Classifier
    cipher: FieldCipher
    strings: Strings
    places: PlaceIndex
    municipalities: ReferenceCache[Municipality] = field(
        default_factory=lambda: ReferenceCache(Municipality)
    )


class ReferenceCache(Generic[Row]):
    """Reference rows (municipalities) by id, re-read after `ttl` seconds: they change only
    when content is synced, and every turn needs its place. Rows are merged into the caller's
    session without a query."""

    def __init__(self, table: type[Row], ttl: float = 60.0) -> None:
        self.table = table
        self.ttl = ttl
        self._rows: dict[int, tuple[float, Row]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, row_id: int) -> Row | None:
        now = time.monotonic()
        with self._lock:
            cached = self._rows.get(row_id)
        if cached is None or now - cached[0] > self.ttl:
            row = session.get(self.table, row_id)
            if row is None:
                return None
            copy = self.table(**row.model_dump())  # detached snapshot: no session's rollback expires it
            make_transient_to_detached(copy)
            with self._lock:
                self._rows[row_id] = (now, copy)
            return row
        return session.merge(cached[1], load=False)
