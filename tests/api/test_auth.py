"""Who may see what: tokens, scopes, other teams, municipality admins, dashboard lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.clock import utcnow
from core.credential import ApiCredential
from core.crypto import FieldCipher
from core.errors import PermissionDenied
from core.staff import MAX_FAILED_LOGINS, AccountLocked, StaffUser, verify_login
from tests.api.conftest import (
    OTHER_TEAM,
    PASSWORD,
    TestClient,
    auth,
    make_intake,
    token_for,
    user_for,
)

pytestmark = pytest.mark.db


def test_missing_or_wrong_token_is_401_problem(client: TestClient, db: Session) -> None:
    token_for(db)
    for headers in ({}, {"Authorization": "Bearer lotse_abc_wrong"}, {"Authorization": "Basic x"}):
        response = client.get("/api/v1/intakes", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["status"] == 401


def test_revoked_token_is_401(client: TestClient, db: Session) -> None:
    token = token_for(db)
    credential = db.exec(select(ApiCredential)).one()
    credential.revoked_at = utcnow()
    db.add(credential)
    db.commit()
    assert client.get("/api/v1/intakes", headers=auth(token)).status_code == 401


def test_wrong_scope_is_403(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    made = make_intake(db, cipher)
    token = token_for(db, scopes=["intakes:read"])
    response = client.post(f"/api/v1/intakes/{made.booking.id}/acknowledge", headers=auth(token))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "intakes:write" in response.json()["detail"]


def test_other_teams_intake_is_404(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    made = make_intake(db, cipher, slug=OTHER_TEAM)
    token = token_for(db)
    assert client.get(f"/api/v1/intakes/{made.booking.id}", headers=auth(token)).status_code == 404
    assert client.post(f"/api/v1/intakes/{made.booking.id}/acknowledge", headers=auth(token)).status_code == 404
    assert client.get("/api/v1/intakes", headers=auth(token)).json() == []
    assert client.get(f"/api/v1/teams/{OTHER_TEAM}/availability", headers=auth(token)).status_code == 404


def test_municipality_credential_sees_its_teams_only(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    in_hamm = make_intake(db, cipher, slug=OTHER_TEAM)
    make_intake(db, cipher, slug="dortmund-kim", index=1)
    token = token_for(db, slug=OTHER_TEAM, scopes=["intakes:read"], municipality=True)
    listed = client.get("/api/v1/intakes", headers=auth(token)).json()
    assert [row["id"] for row in listed] == [in_hamm.booking.id]


def test_login_locks_after_repeated_failures(db: Session) -> None:
    email = user_for(db)
    now = utcnow()
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(PermissionDenied):
            verify_login(db, email, "falsch", now)
    with pytest.raises(AccountLocked):
        verify_login(db, email, PASSWORD, now)  # even the right password waits
    user = verify_login(db, email, PASSWORD, now + timedelta(minutes=16))
    assert user.failed_attempts == 0 and user.locked_until is None


def test_dashboard_lockout_is_committed_across_requests(client: TestClient, db: Session, api_engine: Engine) -> None:
    email = user_for(db)
    for _ in range(MAX_FAILED_LOGINS):
        page = client.post("/dashboard/login", data={"email": email, "password": "falsch"}, follow_redirects=False)
        assert page.status_code == 200 and "falsch" in page.text
    page = client.post("/dashboard/login", data={"email": email, "password": PASSWORD}, follow_redirects=False)
    assert "gesperrt" in page.text
    assert "lotse_staff" not in page.cookies
    with Session(api_engine) as fresh:
        user = fresh.exec(select(StaffUser)).one()
        assert user.locked_until is not None


def test_dashboard_requires_login_and_accepts_the_right_password(client: TestClient, db: Session) -> None:
    email = user_for(db)
    assert client.get("/dashboard/intakes", follow_redirects=False).headers["location"] == "/dashboard/login"
    response = client.post("/dashboard/login", data={"email": email, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/dashboard/intakes").status_code == 200


def test_passwords_are_stored_as_argon2(db: Session) -> None:
    user_for(db)
    stored = db.exec(select(StaffUser)).one().password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_tokens_are_stored_only_as_hashes(db: Session) -> None:
    token = token_for(db)
    secret = token.split("_", 2)[2]
    stored = db.exec(select(ApiCredential)).one()
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64
