"""Volunteers' link tools: a page without login, QR codes, flyers, and referrers' own counts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from fastapi import APIRouter, Form, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.flyer import FlyerSize, FlyerUnavailable, choose_languages, render_flyer
from api.qr import qr_png, qr_svg
from core import links
from core.db import transaction
from core.errors import InvalidInput, LotseError, NotFound, PermissionDenied
from core.language import CURATED, NATIVE_NAMES
from core.referral import LinkCode
from core.settings import Settings

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
STRINGS = Path(__file__).with_name("links_strings.yml")
STATUS = {NotFound: 404, PermissionDenied: 403, InvalidInput: 422}

router = APIRouter()
UiLanguage = Annotated[Literal["de", "en"], Query(description="Language of the page")]
Target = Annotated[Literal["telegram", "web"] | None, Query(description="Link in the QR code")]


@cache
def _strings() -> dict[str, dict[str, dict[str, str]]]:
    return yaml.safe_load(STRINGS.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _status(error: LotseError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)


def _http(error: LotseError) -> HTTPException:
    return HTTPException(status_code=_status(error), detail=str(error) or error.code)


# ---- JSON API ------------------------------------------------------------------------------


class ReferrerCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120, description="A name or organisation, nothing else")


class ReferrerCreated(BaseModel):
    referrer_id: int
    access_key: str = Field(description="Shown once; only its hash is stored")


class LinkCreate(BaseModel):
    municipality: str = Field(pattern=r"^[a-z0-9-]{1,64}$")
    language: str = Field(max_length=16)
    topic: str | None = Field(default=None, max_length=64)
    expires_days: int | None = Field(default=None, ge=1, le=links.MAX_EXPIRY_DAYS)


class LinkPublic(BaseModel):
    code: str
    municipality: str
    language: str | None
    topic: str | None
    status: links.LinkStatus
    expires_at: datetime | None
    telegram: str | None
    webchat: str | None
    qr_svg: str
    qr_png: str
    flyer: str


class CodeCountsPublic(BaseModel):
    code: str
    municipality: str | None
    language: str | None
    topic: str | None
    status: links.LinkStatus
    created_at: datetime
    expires_at: datetime | None
    conversations: int | Literal["<5"]
    questions: int | Literal["<5"]
    bookings: int | Literal["<5"]


def _public(session: Session, settings: Settings, link: LinkCode) -> LinkPublic:
    place = links.place_of(session, link)
    targets = links.link_targets(settings, link, place)
    return LinkPublic(
        code=link.code,
        municipality=place.slug,
        language=link.language,
        topic=link.topic,
        status=links.status_of(link),
        expires_at=link.expires_at,
        telegram=targets.telegram,
        webchat=targets.webchat,
        qr_svg=f"/links/{link.code}/qr.svg",
        qr_png=f"/links/{link.code}/qr.png",
        flyer=f"/links/{link.code}/flyer.pdf?size=a4&langs={link.language or 'de'}",
    )


@router.post("/api/referrers", response_model=ReferrerCreated, status_code=201, tags=["links"])
def create_referrer(request: Request, body: ReferrerCreate) -> ReferrerCreated:
    """Register a volunteer or organisation; the access key is returned once and never stored."""
    try:
        with transaction(_engine(request)) as session:
            referrer, key = links.register_referrer(session, body.name)
    except LotseError as exc:
        raise _http(exc) from exc
    assert referrer.id is not None
    return ReferrerCreated(referrer_id=referrer.id, access_key=key)


@router.get("/api/referrers/me/codes", response_model=list[CodeCountsPublic], tags=["links"])
def my_codes(
    request: Request, x_referrer_key: Annotated[str | None, Header()] = None
) -> list[CodeCountsPublic]:
    """The caller's own codes with counts; counts under 5 are shown as "<5"."""
    try:
        with transaction(_engine(request)) as session:
            referrer = links.authenticate_referrer(session, x_referrer_key)
            rows = links.counts_for_referrer(session, referrer)
    except LotseError as exc:
        raise _http(exc) from exc
    return [CodeCountsPublic(**asdict(row)) for row in rows]


@router.post("/api/links", response_model=LinkPublic, status_code=201, tags=["links"])
def create_link_api(
    request: Request, body: LinkCreate, x_referrer_key: Annotated[str | None, Header()] = None
) -> LinkPublic:
    """A new code; with a referrer key it is counted for that referrer."""
    try:
        with transaction(_engine(request)) as session:
            referrer = links.authenticate_referrer(session, x_referrer_key) if x_referrer_key else None
            link = links.create_code(
                session, body.municipality, body.language, body.topic, referrer, body.expires_days
            )
            return _public(session, _settings(request), link)
    except LotseError as exc:
        raise _http(exc) from exc


@router.post("/api/links/{code}/revoke", response_model=LinkPublic, tags=["links"])
def revoke_link_api(
    request: Request, code: str, x_referrer_key: Annotated[str | None, Header()] = None
) -> LinkPublic:
    """Revoke one of the caller's codes: whoever uses it afterwards starts Lotse normally."""
    try:
        with transaction(_engine(request)) as session:
            referrer = links.authenticate_referrer(session, x_referrer_key)
            link = links.revoke(session, code, referrer)
            return _public(session, _settings(request), link)
    except LotseError as exc:
        raise _http(exc) from exc


# ---- QR codes and flyers -------------------------------------------------------------------


def _usable(session: Session, settings: Settings, code: str) -> tuple[LinkCode, links.LinkTargets, str]:
    """A code that still works (404 unknown, 410 revoked or expired), its targets and place name."""
    try:
        link = links.find_code(session, code)
        place = links.place_of(session, link)
    except LotseError as exc:
        raise _http(exc) from exc
    if links.status_of(link) is not links.LinkStatus.ACTIVE:
        raise HTTPException(status_code=410, detail=f"link code is {links.status_of(link)}")
    return link, links.link_targets(settings, link, place), place.name


def _target(targets: links.LinkTargets, target: str | None) -> str:
    chosen = {"telegram": targets.telegram, "web": targets.webchat}.get(target or "")
    if target and chosen is None:
        raise HTTPException(status_code=404, detail=f"the {target} channel is switched off here")
    try:
        return chosen or targets.preferred
    except InvalidInput as exc:
        raise _http(exc) from exc


def _link_for(request: Request, code: str, target: str | None) -> str:
    with Session(_engine(request)) as session:
        _, targets, _ = _usable(session, _settings(request), code)
    return _target(targets, target)


@router.get("/links/{code}/qr.svg", tags=["links"], response_class=Response)
def qr_svg_file(request: Request, code: str, target: Target = None) -> Response:
    return Response(qr_svg(_link_for(request, code, target)), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=600"})


@router.get("/links/{code}/qr.png", tags=["links"], response_class=Response)
def qr_png_file(request: Request, code: str, target: Target = None) -> Response:
    return Response(qr_png(_link_for(request, code, target)), media_type="image/png",
                    headers={"Cache-Control": "public, max-age=600"})


@router.get("/links/{code}/flyer.pdf", tags=["links"], response_class=Response)
def flyer_file(
    request: Request,
    code: str,
    size: FlyerSize = FlyerSize.A4,
    langs: Annotated[list[str] | None, Query(description="Up to four, e.g. de,ar,fa,uk")] = None,
    target: Target = None,
) -> Response:
    """A printable one-page flyer with the QR code, the place and the invitation in each language."""
    with Session(_engine(request)) as session:
        link, targets, place_name = _usable(session, _settings(request), code)
    try:
        languages = choose_languages(",".join(langs or []), [link.language or "de", "de"])
        pdf = render_flyer(place_name, _target(targets, target), languages, size,
                           web_link=targets.webchat)
    except InvalidInput as exc:
        raise _http(exc) from exc
    except FlyerUnavailable as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from exc
    filename = f"lotse-{link.code}-{size.value}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


# ---- the page for volunteers (server-rendered, no JavaScript) ------------------------------


def _page(request: Request, template: str, ui: str, status_code: int = 200, **context: object) -> HTMLResponse:
    strings = _strings()
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "ui": ui,
            "other_ui": "en" if ui == "de" else "de",
            "t": strings["ui"][ui],
            "topic_labels": strings["topics"][ui],
            "native_names": NATIVE_NAMES,
            "languages": CURATED,
            **context,
        },
        status_code=status_code,
    )


def _error(request: Request, ui: str, error: LotseError | HTTPException) -> HTMLResponse:
    status = error.status_code if isinstance(error, HTTPException) else _status(error)
    detail = error.detail if isinstance(error, HTTPException) else (str(error) or error.code)
    return _page(request, "links_error.html", ui, status_code=status, detail=detail)


def _form(request: Request, ui: str, status_code: int = 200, **context: object) -> HTMLResponse:
    with Session(_engine(request)) as session:
        places = links.linkable_municipalities(session)
    return _page(request, "links.html", ui, status_code, places=places, topics=links.link_topics(),
                 **context)


@router.get("/links", response_class=HTMLResponse, tags=["links"])
def links_page(request: Request, ui: UiLanguage = "de") -> HTMLResponse:
    return _form(request, ui)


@router.post("/links", response_class=HTMLResponse, tags=["links"])
def create_link_page(
    request: Request,
    municipality: Annotated[str, Form(max_length=64)],
    language: Annotated[str, Form(max_length=16)],
    topic: Annotated[str, Form(max_length=64)] = "",
    expires_days: Annotated[str, Form(max_length=5)] = "",
    referrer_key: Annotated[str, Form(max_length=100)] = "",
    ui: Annotated[Literal["de", "en"], Form()] = "de",
) -> HTMLResponse:
    try:
        days = int(expires_days) if expires_days.strip() else None
    except ValueError:
        return _error(request, ui, InvalidInput("expiry must be a whole number of days"))
    try:
        with transaction(_engine(request)) as session:
            referrer = links.authenticate_referrer(session, referrer_key.strip()) if referrer_key.strip() else None
            link = links.create_code(session, municipality, language, topic or None, referrer, days)
            code = link.code
    except LotseError as exc:
        return _error(request, ui, exc)
    return _result(request, code, ui, status_code=201)


def _result(request: Request, code: str, ui: str, status_code: int = 200) -> HTMLResponse:
    with Session(_engine(request)) as session:
        try:
            link = links.find_code(session, code)
            place = links.place_of(session, link)
        except LotseError as exc:
            return _error(request, ui, exc)
        info = _public(session, _settings(request), link)
    return _page(request, "links_result.html", ui, status_code, link=info, place=place)


@router.get("/links/{code}", response_class=HTMLResponse, tags=["links"])
def link_page(request: Request, code: str, ui: UiLanguage = "de") -> HTMLResponse:
    """The links, QR code and flyer choices of one code (public: the code is in the link anyway)."""
    return _result(request, code, ui)


@router.post("/links/referrers", response_class=HTMLResponse, tags=["links"])
def register_referrer_page(
    request: Request,
    name: Annotated[str, Form(min_length=1, max_length=120)],
    ui: Annotated[Literal["de", "en"], Form()] = "de",
) -> HTMLResponse:
    try:
        with transaction(_engine(request)) as session:
            referrer, key = links.register_referrer(session, name)
    except LotseError as exc:
        return _error(request, ui, exc)
    return _page(request, "links_key.html", ui, 201, name=referrer.name, key=key)


@router.post("/links/mine", response_class=HTMLResponse, tags=["links"])
def my_codes_page(
    request: Request,
    referrer_key: Annotated[str, Form(max_length=100)],
    revoke: Annotated[str, Form(max_length=64)] = "",
    ui: Annotated[Literal["de", "en"], Form()] = "de",
) -> HTMLResponse:
    """The referrer's own codes and counts (the key travels in the form body, never in a URL)."""
    try:
        with transaction(_engine(request)) as session:
            referrer = links.authenticate_referrer(session, referrer_key.strip())
            if revoke:
                links.revoke(session, revoke, referrer)
            rows = links.counts_for_referrer(session, referrer)
    except LotseError as exc:
        return _error(request, ui, exc)
    return _page(request, "links_mine.html", ui, rows=rows, key=referrer_key.strip(),
                 revoked=revoke or None)
