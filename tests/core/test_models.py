"""Constraints the database itself enforces, on SQLite and PostgreSQL."""

from __future__ import annotations

import time as clock
from datetime import time

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

import core.db
from core.availability import WeeklyHours
from core.consent import ConsentKind, ConsentText
from core.credential import authenticate, issue_credential
from core.crypto import FieldCipher
from core.db import create_database_engine
from core.errors import ConsentRequired, PermissionDenied
from core.municipality import Municipality, MunicipalityKind, OrganisationKind, Team
from core.person import (
    Channel,
    Conversation,
    find_conversation,
    find_or_create_identity,
    set_personal_details,
)
from core.routing import Outcome, RoutingRule
from core.settings import UNSAFE_FERNET_KEY

pytestmark = pytest.mark.db


def _state(session: Session) -> Municipality:
    state = Municipality(ags="05", slug="nrw", name="NRW", kind=MunicipalityKind.STATE)
    session.add(state)
    session.flush()
    return state


def _team(session: Session, municipality: Municipality, slug: str = "t") -> Team:
    team = Team(slug=slug, municipality_id=municipality.id, name="T", kind="kim", organisation="O", organisation_kind=OrganisationKind.PUBLIC)  # type: ignore[arg-type]
    session.add(team)
    session.flush()
    return team


@pytest.mark.parametrize("field", ["ags", "slug"])
def test_municipality_ags_and_slug_are_unique(session: Session, field: str) -> None:
    _state(session)
    values = {"ags": "05", "slug": "nrw"}
    values[{"ags": "slug", "slug": "ags"}[field]] = "other"
    session.add(Municipality(name="X", kind=MunicipalityKind.STATE, **values))
    with pytest.raises(IntegrityError):
        session.flush()


def test_parent_must_exist(session: Session) -> None:
    session.add(Municipality(ags="05111", slug="k", name="K", kind=MunicipalityKind.KREIS, parent_id=9999))
    with pytest.raises(IntegrityError):
        session.flush()


def test_routing_priorities_are_unique_per_municipality(session: Session) -> None:
    state = _state(session)
    team = _team(session, state)
    session.add(RoutingRule(municipality_id=state.id, priority=1, outcome=Outcome.INTAKE, team_id=team.id))  # type: ignore[arg-type]
    session.add(RoutingRule(municipality_id=state.id, priority=1, outcome=Outcome.REFER))  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        session.flush()


def test_weekly_hours_must_be_ordered(session: Session) -> None:
    team = _team(session, _state(session))
    session.add(WeeklyHours(team_id=team.id, weekday=1, start_time=time(12), end_time=time(9)))  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        session.flush()


def test_consent_text_versions_are_immutable_keys(session: Session) -> None:
    for _ in range(2):
        session.add(ConsentText(kind=ConsentKind.DATA_PROTECTION, language="ar", version=1, summary="s", full_text="f", binding_de="b"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_a_channel_identity_maps_to_one_person_without_storing_the_identifier(session: Session) -> None:
    cipher = FieldCipher(UNSAFE_FERNET_KEY, "pepper")
    person, identity = find_or_create_identity(session, cipher, Channel.TELEGRAM, "123456789", "ar")
    again, _ = find_or_create_identity(session, cipher, Channel.TELEGRAM, "123456789", "ar")
    assert again.id == person.id
    assert "123456789" not in identity.external_hash
    assert identity.address_enc is None, "no channel address is kept before it is needed"


def test_personal_details_need_consent(session: Session) -> None:
    cipher = FieldCipher(UNSAFE_FERNET_KEY, "pepper")
    person, _ = find_or_create_identity(session, cipher, Channel.WEBCHAT, "tok", "de")
    with pytest.raises(ConsentRequired):
        set_personal_details(person, cipher, "Amal", None)
    assert person.display_name_enc is None


def test_api_credentials_store_only_a_hash(session: Session) -> None:
    credential, token = issue_credential(session, "moers", ["intakes:read"])
    assert token.split("_", 2)[2] not in credential.secret_hash
    assert authenticate(session, token).id == credential.id
    with pytest.raises(PermissionDenied):
        authenticate(session, token[:-2] + "xx")
    with pytest.raises(PermissionDenied):
        authenticate(session, "garbage")


def test_a_turn_waiting_for_a_lock_gives_up_after_the_lock_timeout(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Turns run on the event loop: a lock held elsewhere must fail the turn, not stall it."""
    cipher = FieldCipher(UNSAFE_FERNET_KEY, "pepper")
    with Session(engine) as session:
        person, _ = find_or_create_identity(session, cipher, Channel.TELEGRAM, "42", "de")
        session.add(Conversation(person_id=person.id, channel=Channel.TELEGRAM))  # type: ignore[arg-type]
        session.commit()
    monkeypatch.setattr(core.db, "LOCK_TIMEOUT_MS", 300)
    impatient = create_database_engine(engine.url.render_as_string(hide_password=False))
    try:
        with Session(engine) as holder:
            assert find_conversation(holder, cipher, Channel.TELEGRAM, "42") is not None  # row locked
            started = clock.monotonic()
            with pytest.raises(OperationalError), Session(impatient) as waiting:
                find_conversation(waiting, cipher, Channel.TELEGRAM, "42")
            assert clock.monotonic() - started < 5
    finally:
        impatient.dispose()
