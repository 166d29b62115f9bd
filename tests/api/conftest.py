"""A small app with the case-management API on the test database, and realistic intakes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import core.tables  # noqa: F401  (every table, including the ones the migrations lack so far)
from api.app import include_api
from api.auth import API_SCOPES
from core.availability import WeeklyHours
from core.booking import Booking, free_slots
from core.clock import utcnow
from core.consent import ConsentKind, current_text, record_consent
from core.credential import issue_credential
from core.crypto import FieldCipher
from core.intake import create_intake
from core.municipality import Team, ancestry
from core.person import Channel, find_or_create_identity, remember_address
from core.settings import Settings
from core.staff import create_user

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its test client; httpx works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TEAM = "dortmund-kim"
OTHER_TEAM = "hamm-mbe"
PASSWORD = "richtig-langes-passwort"


@pytest.fixture
def api_engine(engine: Engine) -> Engine:
    """The migrated database plus tables added since the last migration (staff, webhooks)."""
    SQLModel.metadata.create_all(engine)
    return engine


@pytest.fixture
def api_settings(api_engine: Engine, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(data_dir=tmp_path, database_url=api_engine.url.render_as_string(hide_password=False),
                    public_url="http://lotse.test")


@pytest.fixture
def cipher(api_settings: Settings) -> FieldCipher:
    return FieldCipher(api_settings.encryption_keys.get_secret_value(), api_settings.secret_key.get_secret_value())


@pytest.fixture
def db(api_engine: Engine, synced_session: Session) -> Session:
    return synced_session


@pytest.fixture
def app(api_engine: Engine, api_settings: Settings, db: Session) -> FastAPI:
    application = FastAPI()
    application.state.engine = api_engine
    application.state.settings = api_settings
    include_api(application)
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    yield TestClient(app)


def team(session: Session, slug: str = TEAM) -> Team:
    found = session.exec(select(Team).where(Team.slug == slug)).one()
    return found


def token_for(session: Session, slug: str = TEAM, scopes: list[str] | None = None, municipality: bool = False) -> str:
    found = team(session, slug)
    if municipality:
        _, token = issue_credential(session, "test", scopes or list(API_SCOPES), municipality_id=found.municipality_id)
    else:
        _, token = issue_credential(session, "test", scopes or list(API_SCOPES), team_id=found.id)
    session.commit()
    return token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def user_for(session: Session, email: str = "cm@example.org", slug: str = TEAM) -> str:
    create_user(session, email, PASSWORD, team_id=team(session, slug).id)
    session.commit()
    return email


def open_hours(session: Session, slug: str = TEAM) -> Team:
    """Every weekday 08:00-18:00, so there are free slots whatever day the test runs."""
    found = team(session, slug)
    for weekday in range(7):
        session.add(WeeklyHours(team_id=found.id, weekday=weekday, start_time=time(8), end_time=time(18)))  # type: ignore[arg-type]
    session.commit()
    return found


@dataclass
class Made:
    booking: Booking
    person_id: int
    token: str  # the web-chat token: the person's inbox


def make_intake(
    session: Session, cipher: FieldCipher, slug: str = TEAM, language: str = "ar", index: int = 0,
    own_words: str | None = "أحتاج مساعدة في تصريح العمل", name: str = "Hamed", interpreter: bool = True,
    topic: str | None = "work",
) -> Made:
    """A person in the web chat who consented and booked, as the dialogue would leave it."""
    found = team(session, slug)
    if not session.exec(select(WeeklyHours).where(WeeklyHours.team_id == found.id)).first():
        open_hours(session, slug)
    web_token = f"webtoken{index:04d}{language}" + "x" * 24
    person, identity = find_or_create_identity(session, cipher, Channel.WEBCHAT, web_token, language)
    remember_address(identity, cipher, web_token)
    person.consented_at = utcnow()
    session.add_all([person, identity])
    municipality = found.municipality_id
    from core.municipality import Municipality

    chain = [m.id for m in ancestry(session, session.get(Municipality, municipality)) if m.id]  # type: ignore[arg-type]
    text = current_text(session, ConsentKind.DATA_PROTECTION, language, chain)
    values = {"team": found.name, "organisation": found.organisation, "retention_days": "90", "recipients": ""}
    shown = "\n\n".join(text.render(**values))
    assert person.id is not None
    record = record_consent(session, person.id, text, "webchat", shown, recipients=[found.name])
    starts_at = free_slots(session, found)[index]
    booking = Booking(
        reference="", person_id=person.id, team_id=found.id, starts_at=starts_at,  # type: ignore[arg-type]
        ends_at=starts_at + timedelta(minutes=found.slot_minutes), language=language, topic=topic,
        interpreter_language=language if interpreter else None,
        display_name_enc=cipher.encrypt(name), phone_enc=cipher.encrypt("+49 170 1234567"),
        own_words_enc=cipher.encrypt(own_words), first_contact_at=utcnow() - timedelta(hours=3),
    )
    create_intake(session, booking)
    record.booking_id = booking.id
    session.add(record)
    session.commit()
    return Made(booking, person.id, web_token)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
