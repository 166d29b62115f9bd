"""Imports every table so that SQLModel.metadata is complete (for Alembic and tests)."""

from sqlmodel import SQLModel

from core.audit import AuditEvent
from core.availability import AvailabilityException, WeeklyHours
from core.booking import Booking, WaitlistEntry
from core.consent import ConsentRecord, ConsentText
from core.credential import ApiCredential
from core.handoff import HandoffRequest
from core.municipality import Municipality, Team
from core.outbox import OutboxMessage
from core.person import ChannelIdentity, Conversation, Person, ProcessedUpdate, WebInboxMessage
from core.referral import LinkCode, Referrer
from core.routing import RoutingRule
from core.staff import StaffUser
from core.stats import TopicCount
from core.webhook import WebhookEndpoint

metadata = SQLModel.metadata

__all__ = [
    "ApiCredential",
    "AuditEvent",
    "AvailabilityException",
    "Booking",
    "ChannelIdentity",
    "ConsentRecord",
    "ConsentText",
    "Conversation",
    "HandoffRequest",
    "LinkCode",
    "Municipality",
    "OutboxMessage",
    "Person",
    "ProcessedUpdate",
    "Referrer",
    "RoutingRule",
    "StaffUser",
    "Team",
    "TopicCount",
    "WaitlistEntry",
    "WebhookEndpoint",
    "WebInboxMessage",
    "WeeklyHours",
    "metadata",
]
