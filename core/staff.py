"""Dashboard logins of case managers and municipality admins: Argon2 hashes, lockout."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from core.clock import utcnow
from core.columns import enum_type
from core.errors import InvalidInput, PermissionDenied

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths cost one Argon2 run.


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so timing does not tell (made on first
    use: an Argon2 hash takes 64 MiB for a moment, which no chat process needs)."""
    return _hasher.hash("lotse-no-such-user-dummy-password")


class StaffRole(StrEnum):
    TEAM = "team"  # a case manager: sees and changes the data of one team
    MUNICIPALITY = "municipality"  # sees the teams of a municipality (and its towns), read only
    ADMIN = "admin"  # operators: everything


class AccountLocked(PermissionDenied):
    code = "account_locked"


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"
    __table_args__ = (
        UniqueConstraint("email", name="uq_staff_user_email"),
        CheckConstraint(
            "(role = 'team' AND team_id IS NOT NULL) OR (role = 'municipality' AND municipality_id IS NOT NULL) OR role = 'admin'",
            name="ck_staff_user_scope",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=200)
    password_hash: str = Field(max_length=200)
    role: StaffRole = Field(sa_type=enum_type(StaffRole))
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="CASCADE")
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id", ondelete="CASCADE")
    failed_attempts: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    disabled_at: datetime | None = None


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they are UTC by convention."""
    if moment is None or moment.tzinfo is not None:
        return moment
    from datetime import UTC

    return moment.replace(tzinfo=UTC)


def create_user(
    session: Session,
    email: str,
    password: str,
    team_id: int | None = None,
    municipality_id: int | None = None,
    admin: bool = False,
) -> StaffUser:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if "@" not in email:
        raise InvalidInput("email: not an e-mail address")
    if admin:
        role = StaffRole.ADMIN
    elif team_id is not None:
        role = StaffRole.TEAM
    elif municipality_id is not None:
        role = StaffRole.MUNICIPALITY
    else:
        raise InvalidInput("a user needs a team, a municipality, or admin rights")
    user = StaffUser(
        email=email.strip().lower(),
        password_hash=_hasher.hash(password),
        role=role,
        team_id=team_id if role is StaffRole.TEAM else None,
        municipality_id=municipality_id if role is StaffRole.MUNICIPALITY else None,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: StaffUser, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = _hasher.hash(password)
    user.failed_attempts = 0
    user.locked_until = None


def verify_login(session: Session, email: str, password: str, now: datetime | None = None) -> StaffUser:
    """The user, or PermissionDenied; after MAX_FAILED_LOGINS failures the account locks."""
    now = now or utcnow()
    user = session.exec(select(StaffUser).where(StaffUser.email == email.strip().lower())).first()
    if user is None or user.disabled_at is not None:
        try:
            _hasher.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        raise PermissionDenied("wrong e-mail or password")
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        raise AccountLocked("too many failed logins; try again later")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError) as exc:
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_attempts = 0
        session.add(user)
        raise PermissionDenied("wrong e-mail or password") from exc
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_attempts = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    return user
