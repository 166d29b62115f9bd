"""Column helpers shared by the tables: JSON values and encrypted text."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Enum, LargeBinary


def json_column(nullable: bool = False) -> Any:
    return Column(JSON, nullable=nullable)


def encrypted_column() -> Any:
    """Ciphertext of a personal field (see core.crypto); never plaintext."""
    return Column(LargeBinary, nullable=True)


def enum_type(enum: type[StrEnum]) -> Any:
    """Enums as plain strings (portable, migration-friendly), stored by value."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=40,
        values_callable=lambda members: [m.value for m in members],
    )
