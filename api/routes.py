"""The case-management API under /api/v1: thin routes over the view functions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field
from sqlmodel import col, select

from api.auth import WEBHOOK_SCOPE, ApiPrincipal, DbSession, owned_team, settings_of
from api.availability_views import (
    Availability,
    AvailabilitySettings,
    ExceptionIn,
    ExceptionOut,
    Slot,
    WeeklyHoursIn,
    WeeklyHoursOut,
    add_exception,
    add_hours,
    availability,
    remove_exception,
    remove_hours,
    slots,
    update_settings,
)
from api.consent_views import ConsentJson, consent_json, consent_pdf
from api.exports import intakes_csv, rotate_feed_token, team_feed
from api.handoff_views import Handoff, get_handoff, list_handoffs, reply_to_handoff
from api.intake_views import (
    Action,
    IntakeDetail,
    IntakeFilter,
    IntakeSummary,
    Translator,
    apply_action,
    intake_detail,
    list_intakes,
    propose_time,
    summary,
)
from api.statistics import Statistics, compute
from core.booking import BookingStatus
from core.crypto import FieldCipher
from core.errors import PermissionDenied
from core.handoff import HandoffStatus
from core.municipality import Team
from core.settings import Mode
from core.webhook import EVENTS, WebhookEndpoint, disable_endpoint, register_endpoint

router = APIRouter(prefix="/api/v1")
PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"description": "No or an invalid token (application/problem+json)"},
    403: {"description": "The token lacks the scope"},
    404: {"description": "Not found, or another team's"},
    422: {"description": "Validation failed; `errors[].field` names the field"},
}


def cipher_of(request: Request) -> FieldCipher:
    cipher = getattr(request.app.state, "api_cipher", None)
    if cipher is None:
        settings = settings_of(request)
        cipher = FieldCipher(settings.encryption_keys.get_secret_value(), settings.secret_key.get_secret_value())
        request.app.state.api_cipher = cipher
    return cipher


def translator_of(request: Request) -> Translator | None:
    return getattr(request.app.state, "translator", None)


class Filters:
    """Query parameters shared by the list and the CSV export."""

    def __init__(
        self,
        status: Annotated[list[BookingStatus] | None, Query(description="repeatable")] = None,
        date_from: Annotated[date | None, Query(alias="from", description="appointment day, inclusive")] = None,
        date_to: Annotated[date | None, Query(alias="to", description="appointment day, inclusive")] = None,
        language: Annotated[str | None, Query(max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$")] = None,
        topic: Annotated[str | None, Query(max_length=64)] = None,
        team: Annotated[str | None, Query(max_length=80)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> None:
        self.value = IntakeFilter(status, date_from, date_to, language, topic, team, limit, offset)


# --- intakes ---------------------------------------------------------------------------------


@router.get("/intakes", tags=["intakes"], responses=PROBLEM_RESPONSES)
def get_intakes(
    request: Request, principal: ApiPrincipal, session: DbSession, filters: Annotated[Filters, Depends()]
) -> list[IntakeSummary]:
    """Intakes of the teams this credential sees (reading them is audited)."""
    principal.require("intakes:read")
    return list_intakes(session, principal, cipher_of(request), filters.value)


@router.get("/intakes.csv", tags=["exports"], responses=PROBLEM_RESPONSES, response_class=Response)
def get_intakes_csv(
    request: Request, principal: ApiPrincipal, session: DbSession, filters: Annotated[Filters, Depends()]
) -> Response:
    principal.require("intakes:read")
    rows = list_intakes(session, principal, cipher_of(request), filters.value, action="intake.export")
    return Response(
        intakes_csv(rows), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="intakes.csv"'},
    )


@router.get("/intakes/{intake_id}", tags=["intakes"], responses=PROBLEM_RESPONSES)
def get_intake(request: Request, intake_id: int, principal: ApiPrincipal, session: DbSession) -> IntakeDetail:
    """The minimal intake data, the consents with their text versions, the person's own words."""
    principal.require("intakes:read")
    return intake_detail(session, principal, cipher_of(request), intake_id, translator_of(request))


class StatusChange(BaseModel):
    reason: str | None = Field(default=None, max_length=500, description="Shown to the person; required to decline")


class Proposal(BaseModel):
    starts_at: AwareDatetime = Field(description="A free slot of the team (see /teams/{team}/slots)")
    reason: str | None = Field(default=None, max_length=500)


def _change(request: Request, intake_id: int, action: Action, body: StatusChange | None,
            principal: ApiPrincipal, session: DbSession) -> IntakeSummary:
    principal.require("intakes:write")
    booking = apply_action(session, principal, intake_id, action, body.reason if body else None)
    team = session.get(Team, booking.team_id)
    assert team is not None
    return summary(booking, team, cipher_of(request))


@router.post("/intakes/{intake_id}/acknowledge", tags=["intakes"], responses=PROBLEM_RESPONSES | {409: {"description": "Not allowed from the current status"}})
def acknowledge(request: Request, intake_id: int, principal: ApiPrincipal, session: DbSession, body: StatusChange | None = None) -> IntakeSummary:
    return _change(request, intake_id, Action.ACKNOWLEDGE, body, principal, session)


@router.post("/intakes/{intake_id}/confirm", tags=["intakes"], responses=PROBLEM_RESPONSES)
def confirm(request: Request, intake_id: int, principal: ApiPrincipal, session: DbSession, body: StatusChange | None = None) -> IntakeSummary:
    return _change(request, intake_id, Action.CONFIRM, body, principal, session)


@router.post("/intakes/{intake_id}/decline", tags=["intakes"], responses=PROBLEM_RESPONSES)
def decline(request: Request, intake_id: int, body: StatusChange, principal: ApiPrincipal, session: DbSession) -> IntakeSummary:
    return _change(request, intake_id, Action.DECLINE, body, principal, session)


@router.post("/intakes/{intake_id}/complete", tags=["intakes"], responses=PROBLEM_RESPONSES)
def complete(request: Request, intake_id: int, principal: ApiPrincipal, session: DbSession, body: StatusChange | None = None) -> IntakeSummary:
    return _change(request, intake_id, Action.COMPLETE, body, principal, session)


@router.post("/intakes/{intake_id}/no-show", tags=["intakes"], responses=PROBLEM_RESPONSES)
def no_show(request: Request, intake_id: int, principal: ApiPrincipal, session: DbSession, body: StatusChange | None = None) -> IntakeSummary:
    return _change(request, intake_id, Action.NO_SHOW, body, principal, session)


@router.post("/intakes/{intake_id}/propose", tags=["intakes"], responses=PROBLEM_RESPONSES, status_code=201)
def propose(request: Request, intake_id: int, body: Proposal, principal: ApiPrincipal, session: DbSession) -> IntakeSummary:
    """Decline this time and offer another; the person accepts or declines in their chat."""
    principal.require("intakes:write")
    hold = propose_time(session, principal, intake_id, body.starts_at, body.reason)
    team = session.get(Team, hold.team_id)
    assert team is not None
    return summary(hold, team, cipher_of(request))


# --- consents --------------------------------------------------------------------------------


@router.get("/consents/{record_id}.pdf", tags=["consents"], responses=PROBLEM_RESPONSES, response_class=Response)
def get_consent_pdf(request: Request, record_id: int, principal: ApiPrincipal, session: DbSession) -> Response:
    """The bilingual consent document: the person's language beside the binding German text."""
    principal.require("consents:read")
    name, pdf = consent_pdf(session, principal, record_id, settings_of(request).retention_closed_intake_days)
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/consents/{record_id}", tags=["consents"], responses=PROBLEM_RESPONSES)
def get_consent(request: Request, record_id: int, principal: ApiPrincipal, session: DbSession) -> ConsentJson:
    """The consent record with the exact text version shown, re-rendered and hash-checked."""
    principal.require("consents:read")
    body, _ = consent_json(session, principal, record_id, settings_of(request).retention_closed_intake_days)
    return body


# --- availability ----------------------------------------------------------------------------


@router.get("/teams/{team}/availability", tags=["availability"], responses=PROBLEM_RESPONSES)
def get_availability(team: str, principal: ApiPrincipal, session: DbSession) -> Availability:
    return availability(session, owned_team(session, principal, team))


@router.put("/teams/{team}/availability", tags=["availability"], responses=PROBLEM_RESPONSES)
def put_availability(team: str, body: AvailabilitySettings, principal: ApiPrincipal, session: DbSession) -> Availability:
    """Slot length, buffer, horizon and minimum notice."""
    principal.require("slots:write")
    found = owned_team(session, principal, team)
    update_settings(session, principal, found, body)
    return availability(session, found)


@router.post("/teams/{team}/weekly-hours", tags=["availability"], responses=PROBLEM_RESPONSES, status_code=201)
def post_hours(team: str, body: WeeklyHoursIn, principal: ApiPrincipal, session: DbSession) -> WeeklyHoursOut:
    principal.require("slots:write")
    hours = add_hours(session, principal, owned_team(session, principal, team), body)
    assert hours.id is not None
    return WeeklyHoursOut(id=hours.id, weekday=hours.weekday, start_time=hours.start_time, end_time=hours.end_time)


@router.delete("/teams/{team}/weekly-hours/{hours_id}", tags=["availability"], responses=PROBLEM_RESPONSES, status_code=204)
def delete_hours(team: str, hours_id: int, principal: ApiPrincipal, session: DbSession) -> Response:
    principal.require("slots:write")
    remove_hours(session, principal, owned_team(session, principal, team), hours_id)
    return Response(status_code=204)


@router.post("/teams/{team}/exceptions", tags=["availability"], responses=PROBLEM_RESPONSES, status_code=201)
def post_exception(team: str, body: ExceptionIn, principal: ApiPrincipal, session: DbSession) -> ExceptionOut:
    principal.require("slots:write")
    exception = add_exception(session, principal, owned_team(session, principal, team), body)
    assert exception.id is not None
    return ExceptionOut(id=exception.id, day=exception.day, start_time=exception.start_time,
                        end_time=exception.end_time, reason=exception.reason)


@router.delete("/teams/{team}/exceptions/{exception_id}", tags=["availability"], responses=PROBLEM_RESPONSES, status_code=204)
def delete_exception(team: str, exception_id: int, principal: ApiPrincipal, session: DbSession) -> Response:
    principal.require("slots:write")
    remove_exception(session, principal, owned_team(session, principal, team), exception_id)
    return Response(status_code=204)


@router.get("/teams/{team}/slots", tags=["availability"], responses=PROBLEM_RESPONSES)
def get_slots(
    team: str, principal: ApiPrincipal, session: DbSession,
    kind: Annotated[str, Query(pattern="^(free|booked|all)$")] = "all",
) -> list[Slot]:
    """Free slots within the horizon and the booked ones (ids only)."""
    found = owned_team(session, principal, team)
    return slots(session, found, include_free=kind in ("free", "all"), include_booked=kind in ("booked", "all"))


# --- handoffs --------------------------------------------------------------------------------


class HandoffReply(BaseModel):
    text: str = Field(min_length=1, max_length=2000, description="Delivered into the person's chat")


@router.get("/handoffs", tags=["handoffs"], responses=PROBLEM_RESPONSES)
def get_handoffs(
    request: Request, principal: ApiPrincipal, session: DbSession, status: HandoffStatus | None = HandoffStatus.OPEN
) -> list[Handoff]:
    principal.require("intakes:read")
    return list_handoffs(session, principal, cipher_of(request), status)


@router.get("/handoffs/{handoff_id}", tags=["handoffs"], responses=PROBLEM_RESPONSES)
def get_one_handoff(request: Request, handoff_id: int, principal: ApiPrincipal, session: DbSession) -> Handoff:
    principal.require("intakes:read")
    return get_handoff(session, principal, cipher_of(request), handoff_id)


@router.post("/handoffs/{handoff_id}/reply", tags=["handoffs"], responses=PROBLEM_RESPONSES)
def post_reply(request: Request, handoff_id: int, body: HandoffReply, principal: ApiPrincipal, session: DbSession) -> Handoff:
    principal.require("handoffs:write")
    view, _ = reply_to_handoff(session, principal, cipher_of(request), handoff_id, body.text)
    return view


# --- exports ---------------------------------------------------------------------------------


class FeedToken(BaseModel):
    url: str = Field(description="Subscribe to this URL in a calendar client; shown once")


@router.post("/teams/{team}/calendar-token", tags=["exports"], responses=PROBLEM_RESPONSES, status_code=201)
def post_feed_token(request: Request, team: str, principal: ApiPrincipal, session: DbSession) -> FeedToken:
    """A new ICS feed URL for the team; the previous one stops working."""
    principal.require("slots:write")
    found = owned_team(session, principal, team)
    token = rotate_feed_token(session, principal, found)
    base = settings_of(request).public_url.rstrip("/")
    return FeedToken(url=f"{base}/api/v1/teams/{found.slug}/calendar.ics?token={token}")


@router.get("/teams/{team}/calendar.ics", tags=["exports"], response_class=Response,
            responses={404: {"description": "Unknown team or wrong token"}})
def get_feed(request: Request, team: str, token: Annotated[str, Query(min_length=10, max_length=200)], session: DbSession) -> Response:
    """The team's appointments as iCalendar, without names (token-protected URL)."""
    body = team_feed(session, team, token, settings_of(request).public_url)
    return Response(body, media_type="text/calendar; charset=utf-8")


# --- webhooks --------------------------------------------------------------------------------


class WebhookIn(BaseModel):
    url: str = Field(max_length=500, pattern=r"^https?://", description="https:// (http only in development)")
    events: list[str] | None = Field(default=None, description=f"subset of {', '.join(EVENTS)}; default all")


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signing secret, shown once: verify X-Lotse-Signature with it")


def _webhook_out(endpoint: WebhookEndpoint) -> WebhookOut:
    assert endpoint.id is not None
    return WebhookOut(id=endpoint.id, url=endpoint.url, events=list(endpoint.events), created_at=endpoint.created_at)


def _home_team(principal: ApiPrincipal) -> int:
    if principal.home_team_id is None:
        raise PermissionDenied("webhooks belong to a team: use a team credential")
    return principal.home_team_id


@router.get("/webhooks", tags=["webhooks"], responses=PROBLEM_RESPONSES)
def get_webhooks(principal: ApiPrincipal, session: DbSession) -> list[WebhookOut]:
    team_id = _home_team(principal)
    rows = session.exec(select(WebhookEndpoint).where(WebhookEndpoint.team_id == team_id, col(WebhookEndpoint.disabled_at).is_(None))).all()
    return [_webhook_out(r) for r in rows]


@router.post("/webhooks", tags=["webhooks"], responses=PROBLEM_RESPONSES, status_code=201)
def post_webhook(request: Request, body: WebhookIn, principal: ApiPrincipal, session: DbSession) -> WebhookCreated:
    """Register a URL; events are POSTed with HMAC-SHA256 signature, timestamp and Idempotency-Key."""
    principal.require(WEBHOOK_SCOPE)
    allow_http = settings_of(request).mode is Mode.DEVELOPMENT
    endpoint, secret = register_endpoint(session, cipher_of(request), _home_team(principal), body.url, body.events, allow_http)
    return WebhookCreated(**_webhook_out(endpoint).model_dump(), secret=secret)


@router.delete("/webhooks/{webhook_id}", tags=["webhooks"], responses=PROBLEM_RESPONSES, status_code=204)
def delete_webhook(webhook_id: int, principal: ApiPrincipal, session: DbSession) -> Response:
    principal.require(WEBHOOK_SCOPE)
    disable_endpoint(session, _home_team(principal), webhook_id)
    return Response(status_code=204)


# --- statistics ------------------------------------------------------------------------------


@router.get("/statistics", tags=["statistics"], responses=PROBLEM_RESPONSES)
def get_statistics(principal: ApiPrincipal, session: DbSession) -> Statistics:
    """Aggregates for the municipality; counts under 5 are suppressed."""
    return compute(session, principal)
