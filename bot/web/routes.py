"""The web chat: a light page per municipality and a JSON API onto the dialogue engine."""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from bot.engine import DialogueEngine
from bot.replies import Incoming
from bot.wire import reply_to_json
from core.db import transaction
from core.language import CURATED, NATIVE_NAMES, direction, normalise_tag
from core.metrics import MESSAGES_OUT, REPLY_LATENCY, TURN_ERRORS
from core.municipality import Municipality
from core.person import Channel, take_web_inbox

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{32,64}$"

router = APIRouter()


class ChatEvent(BaseModel):
    token: str = Field(pattern=TOKEN_PATTERN, description="Random token held by the browser")
    event_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Unique per event: replays are ignored")
    kind: Literal["start", "text", "action", "command"]
    text: str | None = Field(default=None, max_length=4000)
    action: str | None = Field(default=None, max_length=200)
    command: str | None = Field(default=None, pattern=r"^[a-z]{1,20}$")
    municipality: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,64}$")
    language: str | None = Field(default=None, max_length=16)
    ref: str | None = Field(default=None, max_length=64)


class ChatReplies(BaseModel):
    replies: list[dict[str, object]]


class ChatSession(BaseModel):
    token: str


async def _engine(request: Request) -> DialogueEngine:
    """The engine as a dependency; async, since FastAPI runs a plain function in a thread."""
    return request.app.state.dialogue  # type: ignore[no-any-return]


@router.post("/api/chat/session", response_model=ChatSession, tags=["web chat"])
def new_session() -> ChatSession:
    """A new random token; it identifies nothing but this browser's conversation."""
    return ChatSession(token=secrets.token_urlsafe(32))


@router.post("/api/chat/events", response_model=ChatReplies, tags=["web chat"])
async def post_event(event: ChatEvent, dialogue: Annotated[DialogueEngine, Depends(_engine)]) -> JSONResponse:
    incoming = Incoming(
        channel=Channel.WEBCHAT,
        external_id=event.token,
        update_key=f"{hashlib.sha256(event.token.encode()).hexdigest()[:32]}:{event.event_id}",
        text=event.text if event.kind == "text" else None,
        action=event.action if event.kind == "action" else None,
        command="start" if event.kind == "start" else (event.command if event.kind == "command" else None),
        payload=event.ref,
        language_hint=normalise_tag(event.language),
        municipality_hint=event.municipality,
    )
    started = time.perf_counter()
    try:
        replies = dialogue.handle(incoming)  # on the event loop: see `bot.engine.DialogueEngine`
    except Exception:
        TURN_ERRORS.labels(Channel.WEBCHAT).inc()
        raise
    MESSAGES_OUT.labels(Channel.WEBCHAT, "reply").inc(len(replies))
    # Straight to JSON: the replies are plain dicts already, and this is the hot path (the
    # response model above documents the shape; validating it again costs per message).
    body = JSONResponse({"replies": [reply_to_json(r) for r in replies]})
    REPLY_LATENCY.labels(Channel.WEBCHAT).observe(time.perf_counter() - started)
    return body


@router.get("/api/chat/inbox", response_model=ChatReplies, tags=["web chat"])
async def inbox(
    response: Response,
    token: Annotated[str, Header(alias="X-Chat-Token", pattern=TOKEN_PATTERN)],
    dialogue: Annotated[DialogueEngine, Depends(_engine)],
) -> ChatReplies:
    """Messages that arrived for this browser (team replies, reminders); each is returned once.
    The token comes in a header, never in the URL (which proxies and browsers keep)."""
    response.headers["Cache-Control"] = "no-store"
    services = dialogue.services
    with transaction(services.db) as session:  # on the event loop, like a turn: one short transaction
        return ChatReplies(replies=take_web_inbox(session, services.cipher, token))


@router.get("/chat/{municipality}", response_class=HTMLResponse, tags=["web chat"])
def chat_page(
    request: Request,
    municipality: str,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    ref: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")] = None,
) -> HTMLResponse:
    with Session(request.app.state.engine) as session:
        place = session.exec(select(Municipality).where(Municipality.slug == municipality)).first()
    if place is None or not place.webchat_enabled:
        raise HTTPException(status_code=404, detail="unknown municipality or web chat switched off")
    language = normalise_tag(lang) or "de"
    return TEMPLATES.TemplateResponse(
        request,
        "chat.html",
        {
            "place": place,
            "language": language,
            "preset_language": normalise_tag(lang),
            "dir": direction(language),
            "ref": ref or "",
            "languages": [(code, NATIVE_NAMES[code]) for code in CURATED],
            "strings": request.app.state.strings,
        },
    )
