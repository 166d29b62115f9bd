"""/metrics: Prometheus text with the channel, NLU, booking and outbox figures; optional token."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from core.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.db


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(figures: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def client(lotse: Any, app_settings: Settings) -> Iterator[TestClient]:
    from lotse.app import create_app

    with TestClient(create_app(app_settings, lotse)) as test_client:
        yield test_client


def chat(client: TestClient, token: str, n: int, **event: Any) -> list[dict[str, Any]]:
    response = client.post("/api/chat/events", json={"token": token, "event_id": f"e{n}", **event})
    assert response.status_code == 200, response.text
    return response.json()["replies"]  # type: ignore[no-any-return]


def test_metrics_count_messages_nlu_and_bookings(client: TestClient) -> None:
    before = samples(client.get("/metrics").text)
    token = "m" * 40
    chat(client, token, 1, kind="start", municipality="hamm", language="de")
    chat(client, token, 2, kind="text", text="Wo finde ich einen Deutschkurs?")
    chat(client, token, 3, kind="text", text="Was ist die Hauptstadt von Kanada?")
    chat(client, token, 3, kind="text", text="Was ist die Hauptstadt von Kanada?")  # a replay
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("lotse_messages_received_total", channel="webchat") == 4
    assert grew("lotse_updates_replayed_total", channel="webchat") == 1
    assert grew("lotse_messages_sent_total", channel="webchat", kind="reply") >= 3
    assert grew("lotse_reply_latency_seconds_count", channel="webchat") == 4
    assert grew("lotse_nlu_parse_seconds_count") >= 2
    assert grew("lotse_nlu_parses_total", intent="language_course") == 1
    assert value(after, "lotse_database_up") == 1
    # message text never appears in the exposition
    assert "Deutschkurs" not in response.text and "Kanada" not in response.text


def test_booking_figures_come_from_the_database(client: TestClient, lotse: Any) -> None:
    from tests.bot.driver import Chat
    from tests.bot.test_booking import book

    booking_chat = Chat(lotse.dialogue)
    booking_chat.ready("dortmund", "en")
    book(booking_chat)
    figures = samples(client.get("/metrics").text)
    assert value(figures, "lotse_bookings", status="requested") == 1
    assert value(figures, "lotse_booking_events_total", event="intake.created") >= 1


def test_metrics_token_is_required_when_configured(lotse: Any, app_settings: Settings) -> None:
    from lotse.app import create_app

    settings = app_settings.model_copy(update={"metrics_token": SecretStr("s3cret-metrics")})
    with TestClient(create_app(settings, lotse)) as guarded:
        assert guarded.get("/metrics").status_code == 401
        assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = guarded.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
        assert ok.status_code == 200 and "lotse_database_up" in ok.text
