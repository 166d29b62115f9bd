"""The routing rules of DOMAIN.md §8 expressed as data, evaluated on both databases."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from core.municipality import Municipality, MunicipalityKind, OrganisationKind, Team, municipality_by_slug
from core.routing import CRITERIA, Outcome, Pending, Route, RoutingRule, route, validate_conditions

pytestmark = pytest.mark.db


def decide(session: Session, slug: str, **answers: str) -> Route:
    result = route(session, municipality_by_slug(session, slug), answers)
    assert isinstance(result, Route), f"{slug} {answers}: still pending {result}"
    return result


@pytest.mark.parametrize(
    ("answers", "team"),
    [
        ({"household": "family", "residence_status": "asylum_procedure", "age_band": "18_27"}, "moers-jmd"),
        ({"household": "family", "residence_status": "asylum_procedure", "age_band": "under_18"}, "moers-jmd"),
        ({"household": "single_man", "residence_status": "asylum_procedure", "age_band": "over_27"}, "moers-fluechtlingsberatung"),
        ({"household": "family", "residence_status": "residence_permit", "benefits": "sgb2", "age_band": "over_27"}, "moers-jobcenter"),
        ({"household": "family", "residence_status": "eu_citizen", "benefits": "none", "age_band": "over_27"}, "moers-mbe-awo"),
        ({"household": "family", "residence_status": "eu_citizen", "benefits": "none", "age_band": "18_27"}, "moers-jmd"),
    ],
)
def test_moers_routes_by_status_and_age(synced_session: Session, answers: dict[str, str], team: str) -> None:
    result = decide(synced_session, "moers", **answers)
    assert result.outcome is Outcome.INTAKE
    assert result.team is not None and result.team.slug == team


@pytest.mark.parametrize(
    "answers",
    [
        {"household": "unaccompanied_minor"},
        {"household": "family", "residence_status": "student"},
        {"household": "single_woman", "residence_status": "short_visa"},
    ],
)
def test_moers_excludes_students_short_visas_and_unaccompanied_minors(synced_session: Session, answers: dict[str, str]) -> None:
    assert decide(synced_session, "moers", **answers).outcome is Outcome.REFER


def test_moers_asks_only_what_its_rules_need(synced_session: Session) -> None:
    pending = route(synced_session, municipality_by_slug(synced_session, "moers"), {})
    assert isinstance(pending, Pending)
    assert pending.criterion in CRITERIA
    asked = route(synced_session, municipality_by_slug(synced_session, "koeln"), {})
    assert isinstance(asked, Route), "Köln has one catch-all rule: no question at all"


@pytest.mark.parametrize(("years", "offer"), [("up_to_5", "case_management"), ("over_5", "counselling")])
def test_dormagen_offers_case_management_only_in_the_first_five_years(synced_session: Session, years: str, offer: str) -> None:
    result = decide(synced_session, "dormagen", years_in_germany=years)
    assert result.outcome is Outcome.INTAKE
    assert result.offer is not None and result.offer.value == offer


@pytest.mark.parametrize(
    ("answers", "team"),
    [
        ({"household": "single_man", "age_band": "over_27"}, "hamm-mbe"),
        ({"household": "single_man", "age_band": "18_27"}, "hamm-jmd"),
        ({"household": "unaccompanied_minor"}, "hamm-jmd"),
        ({"household": "family"}, "hamm-integrationsmanagement"),
    ],
)
def test_hamm_routes_groups_outside_the_programme_instead_of_refusing(synced_session: Session, answers: dict[str, str], team: str) -> None:
    result = decide(synced_session, "hamm", **answers)
    assert result.outcome is Outcome.INTAKE
    assert result.team is not None and result.team.slug == team


@pytest.mark.parametrize("answers", [{}, {"age_band": "18_27", "residence_status": "duldung"}])
def test_koeln_sends_every_intake_to_the_steering_unit(synced_session: Session, answers: dict[str, str]) -> None:
    result = decide(synced_session, "koeln", **answers)
    assert result.team is not None and result.team.slug == "koeln-kokir"
    assert result.team.organisation_kind == OrganisationKind.PUBLIC


@pytest.mark.parametrize("kreis", ["kreis-lippe", "rheinisch-bergischer-kreis"])
def test_kreise_route_on_to_the_town(synced_session: Session, kreis: str) -> None:
    assert decide(synced_session, kreis).outcome is Outcome.ASK_TOWN


def test_towns_inherit_rules_from_their_kreis(synced_session: Session) -> None:
    result = decide(synced_session, "detmold")
    assert result.outcome is Outcome.INTAKE and result.team is not None
    assert result.municipality.slug in ("detmold", "kreis-lippe")


def test_every_shipped_municipality_reaches_a_team(synced_session: Session, shipped_content) -> None:  # type: ignore[no-untyped-def]
    """Whatever someone answers, each place ends in an intake team (or asks the town)."""
    for entry in shipped_content.municipalities:
        if entry.kind == "state":
            continue
        municipality = municipality_by_slug(synced_session, entry.slug)
        answers: dict[str, str] = {}
        for _ in range(len(CRITERIA) + 1):
            result = route(synced_session, municipality, answers)
            if not isinstance(result, Pending):
                break
            answers[result.criterion] = result.values[-1]
        assert isinstance(result, Route), entry.slug
        if result.outcome is Outcome.INTAKE:
            assert result.team is not None and result.team.receives_intakes, entry.slug


def test_rules_inherit_down_the_hierarchy_and_local_rules_override(session: Session) -> None:
    state = Municipality(ags="05", slug="land", name="Land", kind=MunicipalityKind.STATE)
    session.add(state)
    session.flush()
    kreis = Municipality(ags="05999", slug="kreis", name="Kreis", kind=MunicipalityKind.KREIS, parent_id=state.id)
    session.add(kreis)
    session.flush()
    town = Municipality(ags="05999001", slug="town", name="Town", kind=MunicipalityKind.TOWN, parent_id=kreis.id)
    session.add(town)
    session.flush()
    kreis_team = Team(slug="k", municipality_id=kreis.id, name="K", kind="kim", organisation="Kreis", organisation_kind=OrganisationKind.PUBLIC)
    town_team = Team(slug="t", municipality_id=town.id, name="T", kind="mbe", organisation="AWO", organisation_kind=OrganisationKind.PROVIDER)
    session.add_all([kreis_team, town_team])
    session.flush()
    session.add(RoutingRule(municipality_id=kreis.id, priority=10, conditions={}, outcome=Outcome.INTAKE, team_id=kreis_team.id))
    session.add(RoutingRule(municipality_id=town.id, priority=10, conditions={"age_band": ["over_27"]}, outcome=Outcome.INTAKE, team_id=town_team.id))
    session.flush()
    assert isinstance(result := route(session, town, {"age_band": "over_27"}), Route)
    assert result.team is not None and result.team.slug == "t"
    assert isinstance(result := route(session, town, {"age_band": "18_27"}), Route)
    assert result.team is not None and result.team.slug == "k"
    assert isinstance(result := route(session, kreis, {}), Route)
    assert result.team is not None and result.team.slug == "k"


def test_topic_specific_rules_apply_only_to_their_topic(session: Session) -> None:
    state = Municipality(ags="05", slug="land", name="Land", kind=MunicipalityKind.STATE)
    session.add(state)
    session.flush()
    general = Team(slug="g", municipality_id=state.id, name="G", kind="kim", organisation="Land", organisation_kind=OrganisationKind.PUBLIC)
    youth = Team(slug="y", municipality_id=state.id, name="Y", kind="jmd", organisation="IB", organisation_kind=OrganisationKind.PROVIDER)
    session.add_all([general, youth])
    session.flush()
    session.add(RoutingRule(municipality_id=state.id, priority=1, topics=["school"], outcome=Outcome.INTAKE, team_id=youth.id))
    session.add(RoutingRule(municipality_id=state.id, priority=2, outcome=Outcome.INTAKE, team_id=general.id))
    session.flush()
    school = route(session, state, {}, "school")
    housing = route(session, state, {}, "housing")
    assert isinstance(school, Route) and school.team is not None and school.team.slug == "y"
    assert isinstance(housing, Route) and housing.team is not None and housing.team.slug == "g"


def test_unknown_criteria_and_values_are_reported() -> None:
    assert validate_conditions({"age_band": ["over_27"]}) == []
    assert validate_conditions({"nationality": ["syrian"]}) == ["unknown criterion 'nationality'"]
    assert validate_conditions({"age_band": ["40"]}) == ["unknown value '40' for age_band"]
