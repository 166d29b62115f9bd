"""One trained model per test session, in a temporary directory, from the real data."""

from __future__ import annotations

import pytest

from core.settings import Settings
from nlu.corpus import EVAL_DIR, Example, load_examples
from nlu.model import IntentModel
from nlu.service import BuiltinClassifier, load_or_train, policy_from

PLACES = [
    ("Köln", "koeln"),
    ("Cologne", "koeln"),
    ("Кельн", "koeln"),
    ("كولن", "koeln"),
    ("Dormagen", "dormagen"),
    ("Moers", "moers"),
    ("Mülheim an der Ruhr", "muelheim-an-der-ruhr"),
    ("Essen", "essen"),
    ("Düsseldorf", "duesseldorf"),
]


@pytest.fixture(scope="session")
def nlu_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("nlu"))


@pytest.fixture(scope="session")
def trained_model(nlu_settings: Settings) -> IntentModel:
    return load_or_train(nlu_settings)


@pytest.fixture(scope="session")
def classifier(nlu_settings: Settings, trained_model: IntentModel) -> BuiltinClassifier:
    return BuiltinClassifier(trained_model, policy_from(nlu_settings, trained_model), PLACES)


@pytest.fixture(scope="session")
def held_out() -> list[Example]:
    return load_examples([EVAL_DIR])
