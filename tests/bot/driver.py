"""Drives the real dialogue engine like a channel would, for conversation tests."""

from __future__ import annotations

import itertools
import secrets

from bot.engine import DialogueEngine
from bot.replies import Incoming, Reply
from core.person import Channel

_counter = itertools.count(1)


class Chat:
    def __init__(self, dialogue: DialogueEngine, channel: Channel = Channel.WEBCHAT, external_id: str | None = None) -> None:
        self.dialogue = dialogue
        self.channel = channel
        self.external_id = external_id or secrets.token_urlsafe(32)
        self.last: list[Reply] = []

    def _send(self, **fields: object) -> list[Reply]:
        incoming = Incoming(self.channel, self.external_id, update_key=f"u{next(_counter)}", **fields)  # type: ignore[arg-type]
        self.last = self.dialogue.handle(incoming)
        return self.last

    def start(self, municipality: str | None = None, language: str | None = None, payload: str | None = None) -> list[Reply]:
        return self._send(command="start", municipality_hint=municipality, language_hint=language, payload=payload)

    def say(self, text: str) -> list[Reply]:
        return self._send(text=text)

    def press(self, action: str) -> list[Reply]:
        assert action in self.actions(), f"{action!r} not offered; offered: {self.actions()}"
        return self._send(action=action)

    def press_any(self, action: str) -> list[Reply]:
        """Press an action id even if not on screen (a stale or forged button)."""
        return self._send(action=action)

    def command(self, name: str) -> list[Reply]:
        return self._send(command=name)

    def actions(self) -> list[str]:
        return [b.action for r in self.last for row in r.buttons for b in row]

    def first_action(self, prefix: str) -> str:
        return next(a for a in self.actions() if a.startswith(prefix))

    def text(self) -> str:
        parts: list[str] = []
        for r in self.last:
            parts += [r.title or "", r.text, *r.notes, *r.checklist]
            for c in r.contacts:
                parts += [c.name, c.phone or "", c.website or ""]
        return "\n".join(parts)

    def ready(self, municipality: str, language: str) -> None:
        self.start(municipality=municipality, language=language)
        assert any("menu" in a or a.startswith("topic:") for a in self.actions()), self.text()
