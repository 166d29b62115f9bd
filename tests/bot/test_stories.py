"""The conversation-test runner for content editors: pass, fail, and its exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.stories import Story, StoryRunner, load_stories

pytestmark = pytest.mark.db
ROOT = Path(__file__).resolve().parents[2]


def test_shipped_stories_cover_every_model_municipality_and_language() -> None:
    files = sorted((ROOT / "conversations").glob("*.yml"))
    assert len(files) == 12
    for path in files:
        languages = {story.start.language for story in load_stories(path)}
        assert languages == {"de", "en", "ar", "uk", "ru", "fa", "tr"}, path.name


def test_a_story_passes_and_a_wrong_expectation_fails_with_a_reason(lotse) -> None:  # type: ignore[no-untyped-def]
    runner = StoryRunner(lotse.dialogue)
    good = Story.model_validate({
        "story": "ar in Moers", "start": {"municipality": "moers", "language": "ar"},
        "steps": [{"user": "كيف أسجل عنواني؟", "intent": "registration_address"}, {"button": "book_appointment"}],
    })
    assert runner.run(good).ok
    bad = Story.model_validate({
        "story": "wrong", "start": {"municipality": "moers", "language": "en"},
        "steps": [{"user": "how do i register my address", "intent": "housing", "reply_contains": ["Zebra"]},
                  {"button": "does_not_exist"}],
    })
    result = runner.run(bad)
    assert not result.ok
    assert "expected 'housing'" in result.steps[0].problems[0]
    assert "reply lacks 'Zebra'" in result.steps[0].problems[1]
    assert "not offered" in result.steps[1].problems[0]


def test_the_command_exits_non_zero_on_any_failure(tmp_path: Path, nlu_model_path: Path) -> None:
    story = tmp_path / "s.yml"
    story.write_text(
        "- story: fails\n  start: {municipality: hamm, language: de}\n  steps:\n"
        "    - user: 'Wie melde ich meine Wohnung an?'\n      reply_contains: ['this text is not there']\n",
        encoding="utf-8",
    )
    env = {**os.environ, "LOTSE_DATA_DIR": str(tmp_path), "LOTSE_NLU_MODEL_PATH": str(nlu_model_path)}
    failing = subprocess.run([sys.executable, "-m", "lotse", "test-conversations", str(story)], capture_output=True, text=True, env=env, cwd=ROOT)
    assert failing.returncode == 1
    assert "FAIL" in failing.stdout and "this text is not there" in failing.stdout
    passing = subprocess.run([sys.executable, "-m", "lotse", "test-conversations", str(ROOT / "conversations" / "hamm.yml")], capture_output=True, text=True, env=env, cwd=ROOT)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "7/7 stories passed" in passing.stdout
