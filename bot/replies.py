"""What flows return and channels render: plain data, never channel markup."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.person import Channel


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # an action id, e.g. "lang:ar", "topic:housing", "book"


@dataclass(frozen=True)
class ContactView:
    name: str
    address: str | None = None
    map_url: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    booking_url: str | None = None
    opening_hours: tuple[str, ...] = ()
    appointment_only: bool = False
    verified: bool = False

    @property
    def tel_url(self) -> str | None:
        return "tel:" + "".join(c for c in self.phone if c.isdigit() or c == "+") if self.phone else None


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str
    data: bytes


@dataclass
class Reply:
    text: str
    language: str
    title: str | None = None
    contacts: list[ContactView] = field(default_factory=list)
    checklist: list[str] = field(default_factory=list)
    checklist_title: str | None = None
    notes: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    attachment: Attachment | None = None
    urgent: bool = False


@dataclass(frozen=True)
class Incoming:
    """One user event from any channel."""

    channel: Channel
    external_id: str  # Telegram chat id or the web chat's random token
    update_key: str | None = None  # makes replays harmless
    text: str | None = None
    action: str | None = None
    command: str | None = None
    payload: str | None = None  # deep-link code (/start payload, ?ref=)
    language_hint: str | None = None
    municipality_hint: str | None = None
