"""RasaClassifier against a small fake Rasa server on 127.0.0.1 that answers like Rasa 3.6."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.settings import NluBackend, Settings
from nlu.rasa import RasaClassifier
from nlu.service import BuiltinClassifier, build_classifier

RASA_VERSION = "3.6.21"


def _error(code: int, message: str, reason: str) -> dict[str, object]:
    """Rasa's ErrorResponse body (rasa/server.py)."""
    return {
        "version": RASA_VERSION,
        "status": "failure",
        "message": message,
        "reason": reason,
        "details": {},
        "help": None,
        "code": code,
    }


def _parse_body(text: str) -> dict[str, object]:
    if "wohnung" in text.lower():
        ranking = [
            {"name": "nlu_fallback", "confidence": 0.3},
            {"name": "housing", "confidence": 0.28},
            {"name": "registration_address", "confidence": 0.25},
            {"name": "school", "confidence": 0.1},
        ]
    else:
        ranking = [
            {"name": "book_appointment", "confidence": 0.962},
            {"name": "cancel_appointment", "confidence": 0.021},
            {"name": "appointment_status", "confidence": 0.017},
        ]
    start = text.find("Köln")
    entities = (
        []
        if start < 0
        else [
            {
                "entity": "municipality",
                "start": start,
                "end": start + 4,
                "confidence_entity": 0.998,
                "value": "koeln",
                "extractor": "DIETClassifier",
            }
        ]
    )
    return {
        "text": text,
        "intent": ranking[0],
        "entities": entities,
        "text_tokens": [[0, len(text)]],
        "intent_ranking": ranking,
        "response_selector": {
            "all_retrieval_intents": [],
            "default": {
                "response": {
                    "responses": None,
                    "confidence": 0.0,
                    "intent_response_key": None,
                    "utter_action": "utter_None",
                },
                "ranking": [],
            },
        },
    }


class FakeRasa(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length) or b"{}")
        text = payload.get("text", "")
        if self.path != "/model/parse":
            return self._send(404, _error(404, "Not found", "NotFound"))
        if "SLOW" in text:
            time.sleep(1.5)
        if "CRASH" in text:
            return self._send(
                500, _error(500, "An unexpected error occurred. Error: boom", "ParsingError")
            )
        if "GARBAGE" in text:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"<html>not json")
            return None
        if not text:
            return self._send(
                400,
                _error(
                    400,
                    "No text message defined in request_body. Add text message to request body "
                    "in order to obtain the intent and extracted entities.",
                    "BadRequest",
                ),
            )
        return self._send(200, _parse_body(text))

    def _send(self, code: int, body: dict[str, object]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def rasa_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def rasa(
    rasa_url: str, nlu_settings: Settings, classifier: BuiltinClassifier
) -> Iterator[RasaClassifier]:
    settings = nlu_settings.model_copy(update={"rasa_url": rasa_url, "rasa_timeout_s": 0.5})
    adapter = RasaClassifier(settings, classifier)
    yield adapter
    adapter.close()


def test_rasa_answer_is_mapped(rasa: RasaClassifier) -> None:
    result = rasa.parse("Ich brauche einen Termin in Köln", "de")
    assert result.intent.name == "book_appointment" and result.intent.confidence == pytest.approx(
        0.962
    )
    assert [s.name for s in result.intent_ranking][:2] == ["book_appointment", "cancel_appointment"]
    assert [(e.entity, e.value, e.text) for e in result.entities] == [
        ("municipality", "koeln", "Köln")
    ]
    assert result.language == "de" and result.fallback is None


def test_rasa_nlu_fallback_becomes_our_fallback_with_candidates(rasa: RasaClassifier) -> None:
    result = rasa.parse("Wohnung oder Anmeldung?", "de")
    assert result.intent.name == "out_of_scope" and result.fallback == "low_confidence"
    assert [c.name for c in result.candidates] == ["housing", "registration_address", "school"]


@pytest.mark.parametrize(
    "text",
    [
        "CRASH Ich möchte ein Konto eröffnen",
        "GARBAGE Ich möchte ein Konto eröffnen",
        "SLOW Ich möchte ein Konto eröffnen",
    ],
)
def test_errors_and_time_outs_fall_back_to_the_builtin_model(
    rasa: RasaClassifier, classifier: BuiltinClassifier, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="nlu.rasa"):
        result = rasa.parse(text, "de")
    assert result == classifier.parse(text, "de")
    assert result.intent.name == "bank_account"
    assert caplog.records and all("Konto" not in r.getMessage() for r in caplog.records)


def test_bad_request_falls_back(rasa: RasaClassifier) -> None:
    assert rasa.parse("", "de").intent.name == "out_of_scope"


def test_safety_net_applies_to_rasa_answers(rasa: RasaClassifier) -> None:
    assert rasa.parse("Termin bitte, mein Mann schlägt mich", "de").intent.name == "emergency"


async def test_aparse_does_not_block(rasa: RasaClassifier) -> None:
    result = await rasa.aparse("Ich brauche einen Termin", "de")
    assert result.intent.name == "book_appointment"


def test_build_classifier_with_rasa_backend(
    nlu_settings: Settings, rasa_url: str, trained_model: object
) -> None:
    settings = nlu_settings.model_copy(
        update={"nlu_backend": NluBackend.RASA, "rasa_url": rasa_url}
    )
    adapter = build_classifier(settings)
    assert isinstance(adapter, RasaClassifier)
    assert adapter.parse("Ich brauche einen Termin", "de").intent.name == "book_appointment"
    adapter.close()
