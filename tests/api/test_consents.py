"""Consent records as JSON (exact text version, hash-checked) and as a bilingual PDF."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.audit import AuditEvent
from core.crypto import FieldCipher
from tests.api.conftest import OTHER_TEAM, TestClient, auth, make_intake, token_for

pytestmark = pytest.mark.db


def _consent_id(client: TestClient, token: str, intake_id: int) -> int:
    return int(client.get(f"/api/v1/intakes/{intake_id}", headers=auth(token)).json()["consents"][0]["id"])


@pytest.mark.parametrize("language", ["ar", "fa", "uk", "de"])
def test_consent_json_is_the_exact_text_shown(client: TestClient, db: Session, cipher: FieldCipher, language: str) -> None:
    made = make_intake(db, cipher, language=language)
    token = token_for(db)
    record_id = _consent_id(client, token, made.booking.id)  # type: ignore[arg-type]
    body = client.get(f"/api/v1/consents/{record_id}", headers=auth(token)).json()
    assert body["language"] == language and body["version"] == 1 and body["kind"] == "data_protection"
    assert body["text_verified"] is True  # the re-rendered text hashes to the recorded SHA-256
    assert body["binding_de"].startswith("Einwilligungserklärung")
    assert "Dortmund" in body["full_text"] or "KIM" in body["full_text"]
    assert body["intake_reference"] == made.booking.reference


def test_consent_pdf_has_the_german_binding_text_and_renders(
    client: TestClient, db: Session, cipher: FieldCipher, api_engine: Engine, tmp_path: Path
) -> None:
    made = make_intake(db, cipher, language="ar")
    token = token_for(db)
    record_id = _consent_id(client, token, made.booking.id)  # type: ignore[arg-type]
    response = client.get(f"/api/v1/consents/{record_id}.pdf", headers=auth(token))
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Verbindlicher Text (Deutsch)" in text
    assert "Ich willige ein, dass Lotse" in " ".join(text.split())
    assert made.booking.reference in text
    with Session(api_engine) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "consent.read")).all()
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: the rendering check is skipped")
    path = tmp_path / "consent.pdf"
    path.write_bytes(response.content)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages and all(p.stat().st_size > 2000 for p in pages)


def test_other_teams_consent_is_404(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    made = make_intake(db, cipher, slug=OTHER_TEAM)
    own = token_for(db, slug=OTHER_TEAM)
    record_id = _consent_id(client, own, made.booking.id)  # type: ignore[arg-type]
    stranger = token_for(db)
    assert client.get(f"/api/v1/consents/{record_id}", headers=auth(stranger)).status_code == 404
    assert client.get(f"/api/v1/consents/{record_id}.pdf", headers=auth(stranger)).status_code == 404
    no_scope = token_for(db, slug=OTHER_TEAM, scopes=["intakes:read"])
    assert client.get(f"/api/v1/consents/{record_id}", headers=auth(no_scope)).status_code == 403
