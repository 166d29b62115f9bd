"""Fixtures of the content tooling tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.content.content_trees import make_tree


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A valid synthetic tree: registration_address at every level, in fewer languages."""
    return make_tree(tmp_path)
