"""Translation pivot with a tiny trained fr->en argos model (tests/nlu/fixtures)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from core.settings import Settings
from nlu.model import IntentModel
from nlu.service import BuiltinClassifier, policy_from
from nlu.translation import Translator, build_translator, installed_pairs

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "tiny_fr_en.argosmodel"

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("argostranslate") is None,
        reason="argostranslate (optional extra 'translate') is not installed",
    ),
    pytest.mark.filterwarnings("ignore"),  # torch/spacy/stanza import-time warnings
]


@pytest.fixture(scope="module")
def argos_dir() -> Path:
    """The session's private argos home (tests/conftest.py) with the tiny model installed."""
    import argostranslate.package

    argostranslate.package.install_from_path(FIXTURE)
    return Path(os.environ["ARGOS_PACKAGES_DIR"])


@pytest.fixture(scope="module")
def translator(argos_dir: Path) -> Translator:
    found = build_translator(argos_dir)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def pivoting(
    nlu_settings: Settings, trained_model: IntentModel, translator: Translator
) -> BuiltinClassifier:
    return BuiltinClassifier(
        trained_model, policy_from(nlu_settings, trained_model), (), translator
    )


def test_installed_pairs_are_read_without_importing(argos_dir: Path) -> None:
    assert installed_pairs(argos_dir) == {("fr", "en")}


def test_translator_translates(translator: Translator) -> None:
    assert translator.supports("fr", "en") and not translator.supports("ps", "en")
    assert (
        translator.translate("je veux ouvrir un compte bancaire", "fr", "en")
        == "i want to open a bank account"
    )


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("je veux ouvrir un compte bancaire", "bank_account"),
        ("je cherche un travail", "job_search"),
        ("j'ai besoin d'un médecin", "health_care"),
        ("quel temps fait-il demain", "out_of_scope"),
    ],
)
def test_unsupported_language_is_classified_through_english(
    pivoting: BuiltinClassifier, text: str, intent: str
) -> None:
    result = pivoting.parse(text, "fr")
    assert result.translated and result.language == "fr"
    assert result.intent.name == intent
    assert result.text == text  # the user's words are kept


def test_supported_languages_never_pivot(pivoting: BuiltinClassifier) -> None:
    result = pivoting.parse("Ich möchte ein Konto eröffnen", "de")
    assert not result.translated and result.intent.name == "bank_account"


def test_language_without_a_model_falls_back(pivoting: BuiltinClassifier) -> None:
    result = pivoting.parse("Waxaan rabaa inaan furo akoon bangi", "so")
    assert not result.translated and result.language == "so"
    assert result.intent.name == "out_of_scope" and result.fallback == "low_confidence"


async def test_aparse_runs_the_pivot_off_the_event_loop(pivoting: BuiltinClassifier) -> None:
    result = await pivoting.aparse("je veux apprendre l'allemand", "fr")
    assert result.translated and result.intent.name == "language_course"
