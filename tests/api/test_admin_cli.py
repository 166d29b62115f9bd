"""`lotse admin`: credentials and users from the command line."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.admin_cli import app
from core.credential import ApiCredential, authenticate
from core.staff import StaffRole, StaffUser
from tests.api.conftest import PASSWORD

pytestmark = pytest.mark.db


def test_create_and_rotate_credential_and_create_user(
    api_engine: Engine, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOTSE_DATABASE_URL", api_engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    created = runner.invoke(app, ["create-credential", "--team", "dortmund-kim", "--scopes", "intakes:read,intakes:write"])
    assert created.exit_code == 0, created.output
    token = re.search(r"token \(shown once\): (\S+)", created.output).group(1)  # type: ignore[union-attr]
    key_id = token.split("_")[1]
    assert runner.invoke(app, ["create-credential", "--team", "dortmund-kim", "--scopes", "root"]).exit_code != 0
    rotated = runner.invoke(app, ["rotate-credential", key_id])
    assert rotated.exit_code == 0, rotated.output
    user = runner.invoke(app, ["create-user", "--email", "KM@Example.org", "--municipality", "hamm", "--password", PASSWORD])
    assert user.exit_code == 0, user.output
    with Session(api_engine) as session:
        with pytest.raises(Exception, match="revoked"):
            authenticate(session, token)
        assert len(session.exec(select(ApiCredential)).all()) == 2
        stored = session.exec(select(StaffUser)).one()
        assert stored.email == "km@example.org" and stored.role is StaffRole.MUNICIPALITY
