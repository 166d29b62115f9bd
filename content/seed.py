"""Brings the database's municipalities, teams and routing rules in line with the content files."""

from __future__ import annotations

import logging

from sqlmodel import Session, delete, select

from content.loader import ContentSet
from core.consent import ConsentKind, ConsentText
from core.municipality import Municipality, MunicipalityKind, OrganisationKind, Team
from core.routing import Offer, Outcome, RoutingRule

log = logging.getLogger(__name__)


def sync_reference_data(session: Session, content: ContentSet) -> dict[str, int]:
    """Upsert by slug; routing rules of each municipality are replaced as a whole."""
    by_slug: dict[str, Municipality] = {
        m.slug: m for m in session.exec(select(Municipality))
    }
    for entry in content.municipalities:
        row = by_slug.get(entry.slug) or Municipality(
            slug=entry.slug, ags=entry.ags, name=entry.name, kind=MunicipalityKind(entry.kind)
        )
        row.ags = entry.ags
        row.name = entry.name
        row.names = dict(entry.names)
        row.kind = MunicipalityKind(entry.kind)
        row.languages = list(entry.languages)
        row.timezone = entry.timezone
        row.website = str(entry.website) if entry.website else None
        row.telegram_enabled = entry.channels.get("telegram", True)
        row.webchat_enabled = entry.channels.get("webchat", True)
        session.add(row)
        by_slug[entry.slug] = row
    session.flush()
    for entry in content.municipalities:
        parent = by_slug.get(entry.parent) if entry.parent else None
        by_slug[entry.slug].parent_id = parent.id if parent else None

    teams: dict[str, Team] = {t.slug: t for t in session.exec(select(Team))}
    for team_entry in content.teams:
        owner = by_slug[team_entry.municipality]
        assert owner.id is not None
        team = teams.get(team_entry.slug) or Team(
            slug=team_entry.slug,
            municipality_id=owner.id,
            name=team_entry.name,
            kind=team_entry.kind,
            organisation=team_entry.organisation,
            organisation_kind=OrganisationKind(team_entry.organisation_kind),
        )
        team.municipality_id = owner.id
        team.name = team_entry.name
        team.kind = team_entry.kind
        team.organisation = team_entry.organisation
        team.organisation_kind = OrganisationKind(team_entry.organisation_kind)
        team.languages = list(team_entry.languages)
        team.website = str(team_entry.website) if team_entry.website else None
        team.phone = team_entry.phone
        team.email = team_entry.email
        team.address = team_entry.address
        team.office_hours = list(team_entry.office_hours)
        team.receives_intakes = team_entry.receives_intakes
        team.verified = team_entry.verified
        session.add(team)
        teams[team_entry.slug] = team
    session.flush()

    session.exec(delete(RoutingRule))  # type: ignore[call-overload]
    for rule in content.rules:
        owner = by_slug[rule.municipality]
        assert owner.id is not None
        session.add(
            RoutingRule(
                municipality_id=owner.id,
                priority=rule.priority,
                conditions={k: list(v) for k, v in rule.when.items()},
                topics=list(rule.topics),
                outcome=Outcome(rule.outcome),
                team_id=teams[rule.team].id if rule.team else None,
                offer=Offer(rule.offer) if rule.offer else None,
                note=rule.note,
            )
        )
    session.flush()
    _sync_consent_texts(session, content, by_slug)
    counts = {
        "municipalities": len(content.municipalities),
        "teams": len(content.teams),
        "rules": len(content.rules),
    }
    log.info("reference data synced: %s", counts)
    return counts


def _sync_consent_texts(session: Session, content: ContentSet, by_slug: dict[str, Municipality]) -> None:
    """Published versions are immutable: only versions not yet in the database are added."""
    existing = {
        (t.scope, t.kind, t.language, t.version) for t in session.exec(select(ConsentText))
    }
    for entry in content.consents:
        municipality_id = by_slug[entry.municipality].id if entry.municipality else None
        for language, text in entry.texts.items():
            scope = entry.municipality or "default"
            key = (scope, ConsentKind(entry.kind), language, entry.version)
            if key in existing:
                continue
            session.add(
                ConsentText(
                    municipality_id=municipality_id,
                    scope=scope,
                    kind=ConsentKind(entry.kind),
                    language=language,
                    version=entry.version,
                    summary=text.summary.strip(),
                    full_text=text.full.strip(),
                    binding_de=entry.binding_de.strip(),
                )
            )
    session.flush()
