"""Print the NLU benchmark figures (same as `lotse nlu bench`); run: python bench/nlu_bench.py."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from core.settings import Settings
from nlu.cli import app


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app(["bench", *sys.argv[1:]], obj=Settings(data_dir=Path(tmp)))


if __name__ == "__main__":
    main()
