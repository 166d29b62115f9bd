"""Small synthetic content trees written to tmp dirs: state -> Kreis -> town, plus a city.

A plain module (not conftest.py) so that tests can import the builders by name.
"""

from __future__ import annotations

from pathlib import Path

from content.schema import source_hash

MUNICIPALITIES = """\
- slug: land
  ags: "05"
  kind: state
  parent: null
  names: {de: Land}
- slug: kreis-a
  ags: "05001"
  kind: kreis
  parent: land
  names: {de: Kreis A}
- slug: town-a
  ags: "05001001"
  kind: town
  parent: kreis-a
  names: {de: Stadt A}
- slug: city-b
  ags: "05002000"
  kind: kreisfreie_stadt
  parent: land
  names: {de: Stadt B}
"""

TEAMS = """\
- slug: town-a-team
  municipality: town-a
  name: Integrationsteam der Stadt A
  kind: servicestelle
  organisation: Stadt A
  organisation_kind: public
  website: https://www.example.org
"""

ROUTING = """\
- municipality: town-a
  priority: 10
  when:
    age_band: [under_18]
  outcome: intake
  team: town-a-team
"""

CONSENT = """\
- kind: data_protection
  version: 1
  binding_de: "Ich willige ein, dass {team} meine Angaben erhält."
  texts:
    de:
      summary: "{team} bekommt Ihre Angaben."
      full: "{team} ({organisation}) bekommt Ihre Angaben."
    en:
      summary: "{team} receives your details."
      full: "{team} ({organisation}) receives your details."
"""

GERMAN = "Melden Sie Ihre Wohnung an."


def topic_yaml(
    topic: str, scope: str, answers: dict[str, str], *, stamped: bool = True,
    verified: bool = True, extra: str = "",
) -> str:
    """A topic file; every translation records the hash of the German text unless not stamped."""
    lines = [
        f"topic: {topic}",
        f"scope: {scope}",
        "last_verified: 2026-11-01",
        f"verified: {'true' if verified else 'false'}",
        "sources:",
        "  - url: https://www.example.org",
        "answer:",
    ]
    german = answers["de"]
    for language, text in answers.items():
        lines += [f"  {language}:", f"    text: {text!r}" if "'" not in text
                  else f'    text: "{text}"']
        if language != "de" and stamped:
            lines.append(f"    source_hash: {source_hash(german)}")
    return "\n".join(lines) + "\n" + extra


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_tree(tmp_path: Path) -> Path:
    """A valid tree: registration_address at every level, each level in fewer languages."""
    root = tmp_path / "data"
    write(root, "municipalities.yml", MUNICIPALITIES)
    write(root, "teams.yml", TEAMS)
    write(root, "routing.yml", ROUTING)
    write(root, "consent.yml", CONSENT)
    write(root, "topics/federal/registration_address.yml", topic_yaml(
        "registration_address", "federal",
        {"de": "Bund: " + GERMAN, "en": "Federal: register.", "ar": "اتحادي: سجّل سكنك.",
         "uk": "Федеральний.", "ru": "Федеральный.", "fa": "فدرال: ثبت کنید.", "tr": "Federal."}))
    write(root, "topics/land/registration_address.yml", topic_yaml(
        "registration_address", "land", {"de": "Land: " + GERMAN, "ar": "الولاية: سجّل.",
                                         "uk": "Земля."}))
    write(root, "topics/kreis-a/registration_address.yml", topic_yaml(
        "registration_address", "kreis-a", {"de": "Kreis: " + GERMAN, "uk": "Округ."}))
    write(root, "topics/town-a/registration_address.yml", topic_yaml(
        "registration_address", "town-a", {"de": "Stadt: " + GERMAN, "en": "Town: register."}))
    return root
