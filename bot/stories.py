"""Conversation tests for content editors: YAML stories run through the real dialogue engine."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.engine import DialogueEngine
from bot.replies import Incoming, Reply
from core.person import Channel

BUTTON_ALIASES = {
    "book_appointment": "book",
    "human_handoff": "handoff",
    "privacy_info": "cmd:privacy",
    "privacy_delete": "cmd:delete",
    "change_language": "cmd:language",
    "appointment_status": "appointment:status",
    "cancel_appointment": "appointment:cancel",
    "reschedule_appointment": "appointment:reschedule",
}


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str | None = None
    button: str | None = None
    command: str | None = None
    intent: str | None = None
    reply_contains: list[str] = Field(default_factory=list)
    reply_not_contains: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_input(self) -> Step:
        if sum(x is not None for x in (self.user, self.button, self.command)) != 1:
            raise ValueError("each step needs exactly one of user, button, command")
        return self


class Start(BaseModel):
    model_config = ConfigDict(extra="forbid")
    municipality: str | None = None
    language: str | None = None
    payload: str | None = None


class Story(BaseModel):
    model_config = ConfigDict(extra="forbid")
    story: str
    start: Start = Field(default_factory=Start)
    steps: list[Step]


@dataclass
class StepResult:
    index: int
    ok: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class StoryResult:
    file: str
    story: str
    steps: list[StepResult]

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)


def load_stories(path: Path) -> list[Story]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of stories")
    try:
        return [Story.model_validate(item) for item in data]
    except ValidationError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _visible(replies: list[Reply]) -> str:
    parts: list[str] = []
    for reply in replies:
        parts += [reply.title or "", reply.text, *reply.notes, *reply.checklist]
        parts += [b.label for row in reply.buttons for b in row]
        for contact in reply.contacts:
            parts += [contact.name, contact.address or "", contact.phone or "", contact.website or ""]
    return "\n".join(parts)


class StoryRunner:
    def __init__(self, dialogue: DialogueEngine) -> None:
        self.dialogue = dialogue
        self._updates = itertools.count(1)

    def run(self, story: Story, file: str = "") -> StoryResult:
        chat_id = secrets.token_urlsafe(32)
        send = lambda **kw: self.dialogue.handle(  # noqa: E731
            Incoming(Channel.WEBCHAT, chat_id, update_key=f"story-{next(self._updates)}", **kw)
        )
        start = story.start
        replies = send(command="start", payload=start.payload, municipality_hint=start.municipality,
                       language_hint=start.language)
        results: list[StepResult] = []
        for index, step in enumerate(story.steps, 1):
            problems: list[str] = []
            if step.user is not None:
                if step.intent:
                    language = self._language(chat_id)
                    parsed = self.dialogue.services.classifier.parse(step.user, language)
                    if parsed.intent.name != step.intent:
                        problems.append(f"intent {parsed.intent.name!r} ({parsed.intent.confidence:.2f}), expected {step.intent!r}")
                replies = send(text=step.user)
            elif step.button is not None:
                offered = [b.action for r in replies for row in r.buttons for b in row]
                action = BUTTON_ALIASES.get(step.button, step.button)
                match = next((a for a in offered if a == action or a.startswith(action + ":")), None)
                if match is None:
                    problems.append(f"button {step.button!r} not offered (offered: {', '.join(offered) or 'none'})")
                    results.append(StepResult(index, False, problems))
                    break
                replies = send(action=match)
            else:
                replies = send(command=step.command)
            visible = _visible(replies)
            problems += [f"reply lacks {s!r}" for s in step.reply_contains if s not in visible]
            problems += [f"reply contains {s!r}" for s in step.reply_not_contains if s in visible]
            results.append(StepResult(index, not problems, problems))
        return StoryResult(file, story.story, results)

    def _language(self, chat_id: str) -> str | None:
        from sqlmodel import Session, select

        from core.person import ChannelIdentity, Conversation

        services = self.dialogue.services
        digest = services.cipher.lookup_hash(f"{Channel.WEBCHAT}:{chat_id}")
        with Session(services.db) as session:
            identity = session.exec(select(ChannelIdentity).where(ChannelIdentity.external_hash == digest)).first()
            if identity is None:
                return None
            conversation = session.exec(select(Conversation).where(Conversation.person_id == identity.person_id)).first()
            return conversation.language if conversation else None
