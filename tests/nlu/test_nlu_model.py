"""The numpy-only scorer reproduces scikit-learn exactly; the service is thread-safe."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from core.settings import Settings
from nlu.corpus import Example, load_examples
from nlu.features import FeatureSpec
from nlu.model import load_model, save_model
from nlu.service import BuiltinClassifier, build_classifier, current_data_hash, model_is_current
from nlu.training import _fit, _vectorise


def test_fast_scoring_matches_scikit_learn(held_out: list[Example]) -> None:
    sample = held_out[::7]
    spec = FeatureSpec()
    vectoriser, matrix = _vectorise([e.text for e in sample], spec)
    classifier = _fit(matrix, [e.intent for e in sample])
    from nlu.language import train_language_model
    from nlu.model import IntentModel

    model = IntentModel(
        intents=[str(c) for c in classifier.classes_],
        vocabulary={str(k): int(v) for k, v in vectoriser.vocabulary_.items()},
        idf=np.asarray(vectoriser.idf_, dtype=np.float32),
        weights=np.ascontiguousarray(classifier.coef_.T, dtype=np.float32),
        bias=np.asarray(classifier.intercept_, dtype=np.float32),
        temperature=0.2,
        spec=spec,
        language_model=train_language_model(sample),
        data_hash="x",
    )
    texts = [e.text for e in held_out[1::50]] + ["", "!!!", "Köln 112 😀"]
    expected = classifier.decision_function(vectoriser.transform(texts))
    ours = np.vstack([model.scores(t) for t in texts])
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)


def test_artefact_round_trip_and_staleness(
    nlu_settings: Settings, trained_model: object, tmp_path: Path
) -> None:
    path = nlu_settings.resolved_nlu_model_path
    assert model_is_current(path, current_data_hash()) is not None
    assert model_is_current(path, "another-hash") is None
    copy = tmp_path / "copy.joblib"
    save_model(load_model(path), copy)
    assert load_model(copy).data_hash == current_data_hash()
    copy.write_bytes(b"not a model")
    assert model_is_current(copy, current_data_hash()) is None


def test_build_classifier_loads_the_current_artefact(
    nlu_settings: Settings, trained_model: object
) -> None:
    before = nlu_settings.resolved_nlu_model_path.stat().st_mtime_ns
    classifier = build_classifier(nlu_settings)
    assert classifier.parse("Ich möchte ein Konto eröffnen", "de").intent.name == "bank_account"
    assert nlu_settings.resolved_nlu_model_path.stat().st_mtime_ns == before  # not retrained


def test_parse_is_thread_safe(classifier: BuiltinClassifier, held_out: list[Example]) -> None:
    texts = [(e.text, e.language) for e in held_out[::5]]
    sequential = [classifier.parse(t, lang) for t, lang in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda item: classifier.parse(*item), texts))
    assert parallel == sequential


def test_to_rasa_has_the_parse_shape(classifier: BuiltinClassifier) -> None:
    body = classifier.parse("Termin in Köln am Montag um 10 Uhr", "de").to_rasa()
    assert set(body) >= {"text", "intent", "intent_ranking", "entities"}
    assert set(body["intent"]) == {"name", "confidence"}  # type: ignore[arg-type]
    kinds = {e["entity"] for e in body["entities"]}  # type: ignore[attr-defined, index]
    assert kinds == {"municipality", "date", "time"}


def test_examples_load_with_languages() -> None:
    from nlu.corpus import DATA_DIR

    languages = {e.language for e in load_examples([DATA_DIR])}
    assert languages == {"de", "en", "ar", "uk", "ru", "fa", "tr"}
