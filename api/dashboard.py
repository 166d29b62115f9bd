"""The dashboard for case managers: server-rendered German HTML over the same view functions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, select

from api.auth import (
    COOKIE,
    SESSION_SECONDS,
    DbSession,
    Staff,
    StaffContext,
    engine_of,
    session_cookie,
    settings_of,
)
from api.availability_views import (
    AvailabilitySettings,
    ExceptionIn,
    WeeklyHoursIn,
    add_exception,
    add_hours,
    availability,
    remove_exception,
    remove_hours,
    slots,
    update_settings,
)
from api.consent_views import consent_pdf
from api.exports import STATUS_DE
from api.handoff_views import list_handoffs, reply_to_handoff
from api.intake_views import Action, IntakeFilter, apply_action, intake_detail, list_intakes
from api.routes import cipher_of, translator_of
from api.statistics import compute
from core.booking import TRANSITIONS, BookingStatus
from core.clock import utcnow
from core.db import transaction
from core.errors import LotseError, NotFound, PermissionDenied
from core.handoff import HandoffStatus
from core.language import NATIVE_NAMES, direction
from core.municipality import Team
from core.settings import Mode
from core.staff import AccountLocked, verify_login

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
ZONE = ZoneInfo("Europe/Berlin")
LANGUAGE_DE = {"de": "Deutsch", "en": "Englisch", "ar": "Arabisch", "uk": "Ukrainisch", "ru": "Russisch",
               "fa": "Persisch", "tr": "Türkisch"}
WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
ACTION_LABELS = {
    Action.ACKNOWLEDGE: ("Gesehen", BookingStatus.ACKNOWLEDGED),
    Action.CONFIRM: ("Bestätigen", BookingStatus.CONFIRMED),
    Action.DECLINE: ("Ablehnen", BookingStatus.DECLINED),
    Action.COMPLETE: ("Abgeschlossen", BookingStatus.COMPLETED),
    Action.NO_SHOW: ("Nicht erschienen", BookingStatus.NO_SHOW),
}

router = APIRouter(prefix="/dashboard", include_in_schema=False)


def _local(moment: datetime | None, pattern: str = "%a %d.%m.%Y %H:%M") -> str:
    if moment is None:
        return "–"
    from datetime import UTC

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    text = aware.astimezone(ZONE).strftime(pattern)
    for en, de in (("Mon", "Mo"), ("Tue", "Di"), ("Wed", "Mi"), ("Thu", "Do"), ("Fri", "Fr"), ("Sat", "Sa"), ("Sun", "So")):
        text = text.replace(en, de)
    return text


TEMPLATES.env.filters["local"] = _local
TEMPLATES.env.globals.update(
    status_de=STATUS_DE, language_de=LANGUAGE_DE, native=NATIVE_NAMES, direction=direction, weekdays=WEEKDAYS_DE,
)


def _page(request: Request, name: str, staff: StaffContext | None, **context: object) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, name,
        {"staff": staff, "csrf": staff.csrf if staff else "", "error": request.query_params.get("fehler"),
         "notice": request.query_params.get("hinweis"), **context},
    )


def _back(path: str, error: str | None = None, notice: str | None = None) -> RedirectResponse:
    query = f"?fehler={quote(error)}" if error else (f"?hinweis={quote(notice)}" if notice else "")
    return RedirectResponse(path + query, status_code=303)


def _check_csrf(staff: StaffContext, token: str) -> None:
    import hmac

    if not hmac.compare_digest(staff.csrf, token):
        raise PermissionDenied("Formular abgelaufen, bitte neu laden")


def _message(error: LotseError) -> str:
    return {
        "invalid_transition": "Dieser Statuswechsel ist im aktuellen Status nicht möglich.",
        "slot_taken": "Diese Zeit ist nicht frei.",
        "permission_denied": "Dafür fehlen die Rechte.",
    }.get(error.code, str(error))


# --- login -----------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _page(request, "dash_login.html", None)


@router.post("/login", response_model=None)
def login(request: Request, email: Annotated[str, Form(max_length=200)], password: Annotated[str, Form(max_length=200)]) -> Response:
    settings = settings_of(request)
    with transaction(engine_of(request)) as session:  # failed attempts must be committed too
        try:
            user = verify_login(session, email, password)
            cookie = session_cookie(settings, user)
        except AccountLocked:
            return _page(request, "dash_login.html", None, login_error="Zu viele Fehlversuche. Das Konto ist für 15 Minuten gesperrt.", email=email)
        except PermissionDenied:
            return _page(request, "dash_login.html", None, login_error="E-Mail oder Passwort ist falsch.", email=email)
    response = RedirectResponse("/dashboard/intakes", status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                        secure=settings.mode is Mode.PRODUCTION, path="/dashboard")
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(COOKIE, path="/dashboard")
    return response


@router.get("")
def home() -> RedirectResponse:
    return RedirectResponse("/dashboard/intakes", status_code=303)


# --- intakes ---------------------------------------------------------------------------------


@router.get("/intakes", response_class=HTMLResponse)
def intakes_page(
    request: Request, staff: Staff, session: DbSession,
    zeitraum: Annotated[str, Query(pattern="^(heute|woche|alle)$")] = "woche",
    status: Annotated[str, Query(max_length=20)] = "",
    sprache: Annotated[str, Query(max_length=16)] = "",
    thema: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    today = utcnow().astimezone(ZONE).date()
    start, end = {"heute": (today, today), "woche": (today - timedelta(days=today.weekday()), today - timedelta(days=today.weekday()) + timedelta(days=6)), "alle": (None, None)}[zeitraum]
    statuses = [BookingStatus(status)] if status in set(BookingStatus) else None
    filters = IntakeFilter(statuses, start, end, sprache or None, thema or None)
    rows = list_intakes(session, staff.principal, cipher_of(request), filters)
    return _page(request, "dash_intakes.html", staff, rows=rows, zeitraum=zeitraum, status=status, sprache=sprache,
                 thema=thema, statuses=[s for s in BookingStatus if s is not BookingStatus.HELD], languages=LANGUAGE_DE)


@router.get("/intakes/{intake_id}", response_class=HTMLResponse)
def intake_page(request: Request, intake_id: int, staff: Staff, session: DbSession) -> HTMLResponse:
    detail = intake_detail(session, staff.principal, cipher_of(request), intake_id, translator_of(request))
    allowed = TRANSITIONS.get(detail.status, frozenset())
    actions = [(a.value, label) for a, (label, target) in ACTION_LABELS.items() if target in allowed]
    can_write = "intakes:write" in staff.principal.scopes
    return _page(request, "dash_intake.html", staff, intake=detail, actions=actions if can_write else [])


@router.post("/intakes/{intake_id}/status", response_model=None)
def change_intake(
    intake_id: int, staff: Staff, session: DbSession,
    action: Annotated[Action, Form()], csrf: Annotated[str, Form()], reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    _check_csrf(staff, csrf)
    staff.principal.require("intakes:write")
    path = f"/dashboard/intakes/{intake_id}"
    try:
        with session.begin_nested():
            apply_action(session, staff.principal, intake_id, action, reason or None)
    except NotFound:
        raise
    except LotseError as exc:
        return _back(path, error=_message(exc))
    return _back(path, notice=f"Status: {ACTION_LABELS[action][0]}")


@router.get("/consents/{record_id}.pdf", response_model=None)
def consent_download(request: Request, record_id: int, staff: Staff, session: DbSession) -> Response:
    staff.principal.require("consents:read")
    name, pdf = consent_pdf(session, staff.principal, record_id, settings_of(request).retention_closed_intake_days)
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- availability ----------------------------------------------------------------------------


def _teams(session: Session, staff: StaffContext) -> list[Team]:
    statement = select(Team).where(Team.receives_intakes == True).order_by(Team.name)
    return [t for t in session.exec(statement) if t.id is not None and staff.principal.sees_team(t.id)]


def _chosen_team(session: Session, staff: StaffContext, slug: str | None) -> Team:
    teams = _teams(session, staff)
    if staff.principal.home_team_id is not None and not slug:
        found = session.get(Team, staff.principal.home_team_id)
        if found is not None:
            return found
    for team in teams:
        if team.slug == slug or not slug:
            return team
    raise NotFound("team")


@router.get("/verfuegbarkeit", response_class=HTMLResponse)
def availability_page(request: Request, staff: Staff, session: DbSession, team: str | None = None) -> HTMLResponse:
    chosen = _chosen_team(session, staff, team)
    data = availability(session, chosen)
    upcoming = slots(session, chosen)[:60]
    return _page(request, "dash_availability.html", staff, team=chosen, teams=_teams(session, staff), data=data,
                 slots=upcoming, can_write="slots:write" in staff.principal.scopes)


def _availability_edit(staff: StaffContext, session: Session, team: str, csrf: str, change) -> RedirectResponse:  # type: ignore[no-untyped-def]
    _check_csrf(staff, csrf)
    chosen = _chosen_team(session, staff, team)
    path = f"/dashboard/verfuegbarkeit?team={chosen.slug}"
    try:
        staff.principal.require("slots:write")
        with session.begin_nested():
            change(chosen)
    except (LotseError, ValueError) as exc:
        message = _message(exc) if isinstance(exc, LotseError) else str(exc).splitlines()[-1]
        return RedirectResponse(path + "&fehler=" + quote(message), status_code=303)
    return RedirectResponse(path + "&hinweis=" + quote("Gespeichert"), status_code=303)


@router.post("/verfuegbarkeit/zeiten")
def add_hours_form(
    staff: Staff, session: DbSession, team: Annotated[str, Form()], csrf: Annotated[str, Form()],
    weekday: Annotated[int, Form(ge=0, le=6)], start_time: Annotated[time, Form()], end_time: Annotated[time, Form()],
) -> RedirectResponse:
    return _availability_edit(staff, session, team, csrf, lambda t: add_hours(
        session, staff.principal, t, WeeklyHoursIn(weekday=weekday, start_time=start_time, end_time=end_time)))


@router.post("/verfuegbarkeit/zeiten/{hours_id}/loeschen")
def remove_hours_form(hours_id: int, staff: Staff, session: DbSession, team: Annotated[str, Form()], csrf: Annotated[str, Form()]) -> RedirectResponse:
    return _availability_edit(staff, session, team, csrf, lambda t: remove_hours(session, staff.principal, t, hours_id))


@router.post("/verfuegbarkeit/ausnahmen")
def add_exception_form(
    staff: Staff, session: DbSession, team: Annotated[str, Form()], csrf: Annotated[str, Form()],
    day: Annotated[date, Form()], start_time: Annotated[str, Form()] = "", end_time: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    def change(t: Team) -> None:
        values = ExceptionIn(day=day, start_time=start_time or None, end_time=end_time or None, reason=reason)  # type: ignore[arg-type]
        add_exception(session, staff.principal, t, values)

    return _availability_edit(staff, session, team, csrf, change)


@router.post("/verfuegbarkeit/ausnahmen/{exception_id}/loeschen")
def remove_exception_form(exception_id: int, staff: Staff, session: DbSession, team: Annotated[str, Form()], csrf: Annotated[str, Form()]) -> RedirectResponse:
    return _availability_edit(staff, session, team, csrf, lambda t: remove_exception(session, staff.principal, t, exception_id))


@router.post("/verfuegbarkeit/einstellungen")
def settings_form(
    staff: Staff, session: DbSession, team: Annotated[str, Form()], csrf: Annotated[str, Form()],
    slot_minutes: Annotated[int, Form()], buffer_minutes: Annotated[int, Form()],
    horizon_days: Annotated[int, Form()], min_notice_hours: Annotated[int, Form()],
) -> RedirectResponse:
    def change(t: Team) -> None:
        values = AvailabilitySettings(slot_minutes=slot_minutes, buffer_minutes=buffer_minutes,
                                      horizon_days=horizon_days, min_notice_hours=min_notice_hours)
        update_settings(session, staff.principal, t, values)

    return _availability_edit(staff, session, team, csrf, change)


# --- handoffs and statistics -----------------------------------------------------------------


@router.get("/anfragen", response_class=HTMLResponse)
def handoffs_page(request: Request, staff: Staff, session: DbSession, alle: bool = False) -> HTMLResponse:
    rows = list_handoffs(session, staff.principal, cipher_of(request), None if alle else HandoffStatus.OPEN)
    return _page(request, "dash_handoffs.html", staff, rows=rows, alle=alle,
                 can_write="handoffs:write" in staff.principal.scopes)


@router.post("/anfragen/{handoff_id}/antwort")
def reply_form(
    request: Request, handoff_id: int, staff: Staff, session: DbSession,
    csrf: Annotated[str, Form()], text: Annotated[str, Form(min_length=1, max_length=2000)],
) -> RedirectResponse:
    _check_csrf(staff, csrf)
    try:
        staff.principal.require("handoffs:write")
        with session.begin_nested():
            reply_to_handoff(session, staff.principal, cipher_of(request), handoff_id, text)
    except NotFound:
        raise
    except LotseError as exc:
        return _back("/dashboard/anfragen", error=_message(exc))
    return _back("/dashboard/anfragen", notice="Antwort wird zugestellt")


@router.get("/statistik", response_class=HTMLResponse)
def statistics_page(request: Request, staff: Staff, session: DbSession) -> HTMLResponse:
    return _page(request, "dash_statistics.html", staff, stats=compute(session, staff.principal))
