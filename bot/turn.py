"""Everything one update's handling needs: services, the session, who and where."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.replies import Button, Incoming, Reply
from core.metrics import NLU_FALLBACKS, NLU_LATENCY, NLU_PARSES
from core.municipality import Municipality
from core.person import ChannelIdentity, Conversation, Person
from core.stats import QuestionCount
from nlu.result import ParseResult

if TYPE_CHECKING:
    from bot.services import BotServices


@dataclass
class Turn:
    services: BotServices
    session: Session
    incoming: Incoming
    person: Person
    identity: ChannelIdentity
    conversation: Conversation
    replies: list[Reply] = field(default_factory=list)
    counts: list[QuestionCount] = field(default_factory=list)  # written with the turn's end
    _parsed: dict[tuple[str, str | None], ParseResult] = field(default_factory=dict)

    def parse(self, text: str) -> ParseResult:
        """NLU once per text and turn (the emergency check and the question share it)."""
        key = (text, self.conversation.language)
        if key not in self._parsed:
            started = time.perf_counter()
            result = self.services.classifier.parse(text, self.conversation.language)
            NLU_LATENCY.observe(time.perf_counter() - started)
            NLU_PARSES.labels(result.intent.name).inc()
            if result.fallback is not None:
                NLU_FALLBACKS.labels(str(result.fallback)).inc()
            self._parsed[key] = result
        return self._parsed[key]

    @property
    def language(self) -> str:
        return self.conversation.language or "en"

    def t(self, key: str, /, **values: object) -> str:
        return self.services.strings.get(self.language, key, **values)

    def button(self, key: str, action: str, /, **values: object) -> Button:
        return Button(self.t(key, **values), action)

    def say(self, text: str, buttons: list[list[Button]] | None = None, **extra: object) -> Reply:
        reply = Reply(text=text, language=self.language, buttons=buttons or [], **extra)  # type: ignore[arg-type]
        self.replies.append(reply)
        return reply

    @property
    def municipality(self) -> Municipality | None:
        if self.conversation.municipality_id is None:
            return None
        return self.services.municipalities.get(self.session, self.conversation.municipality_id)

    def goto(self, state: str) -> None:
        self.conversation.state = state

    def remember(self, **values: object) -> None:
        self.conversation.context = {**self.conversation.context, **values}

    def forget(self, *keys: str) -> None:
        self.conversation.context = {
            k: v for k, v in self.conversation.context.items() if k not in keys
        }
