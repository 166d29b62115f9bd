"""One tree of domain errors: the API maps them to HTTP codes, flows to a message."""

from __future__ import annotations


class LotseError(Exception):
    """Base of every expected, domain-level failure."""

    code = "error"


class NotFound(LotseError):
    code = "not_found"


class Conflict(LotseError):
    """The request contradicts the current state (slot taken, duplicate intake)."""

    code = "conflict"


class SlotTaken(Conflict):
    code = "slot_taken"


class DuplicateIntake(Conflict):
    code = "duplicate_intake"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class ConsentRequired(LotseError):
    """Personal data may only be stored after consent."""

    code = "consent_required"


class PermissionDenied(LotseError):
    code = "permission_denied"


class InvalidInput(LotseError):
    code = "invalid_input"
