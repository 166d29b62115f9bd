"""The trained intent model as plain data (dicts and numpy arrays) and its fast scoring.

Inference needs numpy only: scikit-learn is imported by training, never when loading.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import numpy.typing as npt

from nlu.features import FeatureSpec, extract_ngrams
from nlu.language import LanguageModel
from nlu.normalisation import normalise_text

# Bump when features, normalisation or the artefact layout change: stale artefacts retrain.
MODEL_VERSION = "lotse-nlu-7"

FloatArray = npt.NDArray[np.float32]


class ModelFileError(RuntimeError):
    """The artefact is missing, unreadable or from another model version."""


@dataclass
class IntentModel:
    """The artefact: linear model over TF-IDF n-grams, softmax temperature, language model."""

    intents: list[str]
    vocabulary: dict[str, int]
    idf: FloatArray
    weights: npt.NDArray[np.float16]  # (n_features, n_intents), C-contiguous; half precision halves RSS
    bias: FloatArray
    temperature: float
    spec: FeatureSpec
    language_model: LanguageModel
    data_hash: str
    emergency_floor: float = 0.15
    version: str = MODEL_VERSION
    figures: dict[str, float] = field(default_factory=dict)
    # The vocabulary as sorted 64-bit hashes of the n-grams, rows of idf/weights in that order:
    # a few MB instead of a dict of a quarter million strings (~30 MB in every process).
    hashes: npt.NDArray[np.uint64] = field(default_factory=lambda: np.empty(0, dtype=np.uint64))

    def __post_init__(self) -> None:
        if not self.vocabulary:
            return
        grams = list(self.vocabulary)
        rows = np.fromiter((self.vocabulary[g] for g in grams), dtype=np.intp, count=len(grams))
        hashes = np.fromiter((gram_hash(g) for g in grams), dtype=np.uint64, count=len(grams))
        hashes, first = np.unique(hashes, return_index=True)  # sorted; a collision keeps one
        self.hashes = hashes
        self.idf = np.ascontiguousarray(self.idf[rows[first]])
        self.weights = np.ascontiguousarray(self.weights[rows[first]])
        self.vocabulary = {}

    @property
    def features(self) -> int:
        return int(self.hashes.size)

    def vectorise(self, text: str) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Sparse TF-IDF vector (sublinear tf, l2 norm) as (indices, values)."""
        counts: dict[int, int] = {}
        for gram in extract_ngrams(normalise_text(text), self.spec):
            key = gram_hash(gram)
            counts[key] = counts.get(key, 0) + 1
        if not counts or self.hashes.size == 0:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
        keys = np.fromiter(counts.keys(), dtype=np.uint64, count=len(counts))
        positions = np.searchsorted(self.hashes, keys)
        positions[positions == self.hashes.size] = 0
        known = self.hashes[positions] == keys
        if not known.any():
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
        indices = positions[known].astype(np.intp)
        seen = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))[known]
        values = (1.0 + np.log(seen)) * self.idf[indices]
        norm = float(np.sqrt(np.dot(values, values)))
        return indices, (values / norm if norm > 0 else values).astype(np.float32)

    def scores(self, text: str) -> FloatArray:
        """Raw decision scores per intent, in the order of self.intents."""
        indices, values = self.vectorise(text)
        if indices.size == 0:
            return self.bias.copy()
        return _combine(self.weights, indices, values, self.bias)

    def probabilities(self, text: str) -> FloatArray:
        """Calibrated probabilities per intent (temperature-scaled softmax of the scores)."""
        return softmax(self.scores(text), self.temperature)

    def analyse(self, text: str) -> tuple[FloatArray, int]:
        """Probabilities and how many known n-grams they rest on (0: nothing recognised)."""
        indices, values = self.vectorise(text)
        scores = (
            self.bias if indices.size == 0 else _combine(self.weights, indices, values, self.bias)
        )
        return softmax(scores, self.temperature), int(indices.size)


def gram_hash(gram: str) -> int:
    """A stable 64-bit hash of an n-gram (Python's hash() differs per process)."""
    data = gram.encode("utf-8")
    return (zlib.crc32(data) << 32) | zlib.crc32(data, 0x9E3779B9)


def _combine(
    weights: npt.NDArray[np.float16], indices: npt.NDArray[np.intp], values: FloatArray, bias: FloatArray
) -> FloatArray:
    """Sparse vector times weight rows, without BLAS: its thread pool wakes up slowly on a
    busy machine and turned 0.1 ms into 4 ms at the 99th percentile."""
    rows = weights[indices].astype(np.float32)
    rows *= values[:, None]
    return np.asarray(rows.sum(axis=0) + bias, dtype=np.float32)


def softmax(scores: FloatArray, temperature: float) -> FloatArray:
    scaled = scores / temperature
    shifted = np.exp(scaled - scaled.max())
    return np.asarray(shifted / shifted.sum(), dtype=np.float32)


def save_model(model: IntentModel, path: Path) -> None:
    """Write atomically so a running process never reads a half-written artefact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(handle)
    try:
        joblib.dump(model, temp_name, compress=3)
        os.replace(temp_name, path)
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)


def load_model(path: Path) -> IntentModel:
    try:
        model = joblib.load(path)
    except Exception as exc:
        raise ModelFileError(f"cannot read NLU model {path}") from exc
    if not isinstance(model, IntentModel) or model.version != MODEL_VERSION:
        raise ModelFileError(f"NLU model {path} is from another version")
    return model
