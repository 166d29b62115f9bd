"""encrypted columns are stored uncompressed; replay copies stay in their row

Ciphertext does not compress, yet PostgreSQL tried: every replay record of more than ~2 KB
(a turn's replies, encrypted) went through pglz first, 6 % of the database's CPU under the
load benchmark, and then out to the TOAST table, a second heap and index insert. Encrypted
columns are now EXTERNAL (never compressed), and `processed_update` keeps rows up to a full
page inline. SQLite has neither, so nothing changes there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENCRYPTED = {
    "person": ("display_name_enc", "phone_enc"),
    "channel_identity": ("address_enc",),
    "processed_update": ("replies_enc",),
    "booking": ("display_name_enc", "phone_enc", "own_words_enc"),
    "handoff_request": ("question_enc", "reply_enc"),
    "webhook_endpoint": ("secret_enc",),
}


def _storage(storage: str) -> None:
    for table, columns in ENCRYPTED.items():
        for column in columns:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE {storage}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _storage("EXTERNAL")
    op.execute("ALTER TABLE processed_update SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE processed_update RESET (toast_tuple_target)")
    _storage("EXTENDED")
