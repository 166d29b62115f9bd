"""Reads the content files into validated objects, with file:line for every problem."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from content.schema import (
    FEDERAL,
    ConsentEntry,
    MunicipalityEntry,
    RuleEntry,
    TeamEntry,
    TopicFile,
)

DEFAULT_ROOT = Path(__file__).with_name("data")
M = TypeVar("M", bound=BaseModel)
# libyaml when available: the same results and marks, about eight times faster
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{self.severity}: {where}: {self.field}: {self.message}"


@dataclass
class ContentSet:
    root: Path
    municipalities: list[MunicipalityEntry] = field(default_factory=list)
    teams: list[TeamEntry] = field(default_factory=list)
    rules: list[RuleEntry] = field(default_factory=list)
    consents: list[ConsentEntry] = field(default_factory=list)
    topics: dict[tuple[str, str], TopicFile] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    topic_paths: dict[tuple[str, str], Path] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class _Source:
    """A file's text; its YAML node tree (for line numbers) only when an error needs it."""

    def __init__(self, text: str) -> None:
        self.text = text

    @functools.cached_property
    def node(self) -> yaml.Node | None:
        return yaml.compose(self.text, Loader=_LOADER)


def _line_of(source: _Source | yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The line of the deepest YAML node that the pydantic error location reaches."""
    node = source.node if isinstance(source, _Source) else source
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            if match is None:
                match = next((k for k, v in node.value if k.value == str(part)), None)
                return match.start_mark.line + 1 if match else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def _read(path: Path, root: Path, problems: list[Problem]) -> tuple[object, _Source | None]:
    relative = str(path.relative_to(root.parent))
    try:
        text = path.read_text(encoding="utf-8")
        return yaml.load(text, Loader=_LOADER), _Source(text)
    except UnicodeDecodeError as exc:
        problems.append(Problem(relative, None, "-", f"not UTF-8: {exc.reason}"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problems.append(Problem(relative, line, "-", f"invalid YAML: {getattr(exc, 'problem', exc)}"))
    return None, None


def _validate(
    model: type[M], data: object, node: _Source | None, path: str, problems: list[Problem],
    prefix: tuple[int | str, ...] = (),
) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = prefix + tuple(error["loc"])
            problems.append(
                Problem(path, _line_of(node, loc), ".".join(map(str, loc)) or "-", error["msg"])
            )
    return None


def _load_list(
    model: type[M], path: Path, root: Path, problems: list[Problem]
) -> list[M]:
    if not path.exists():
        problems.append(Problem(str(path.relative_to(root.parent)), None, "-", "file missing"))
        return []
    data, node = _read(path, root, problems)
    relative = str(path.relative_to(root.parent))
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(Problem(relative, 1, "-", "expected a list of entries"))
        return []
    items = [_validate(model, item, node, relative, problems, (index,)) for index, item in enumerate(data)]
    return [item for item in items if item is not None]


def load_content(root: Path = DEFAULT_ROOT) -> ContentSet:
    content = ContentSet(root=root)
    problems = content.problems
    content.municipalities = _load_list(MunicipalityEntry, root / "municipalities.yml", root, problems)
    content.teams = _load_list(TeamEntry, root / "teams.yml", root, problems)
    content.rules = _load_list(RuleEntry, root / "routing.yml", root, problems)
    content.consents = _load_list(ConsentEntry, root / "consent.yml", root, problems)
    for path in sorted((root / "topics").glob("*/*.yml")):
        relative = str(path.relative_to(root.parent))
        data, node = _read(path, root, problems)
        if data is None:
            continue
        topic = _validate(TopicFile, data, node, relative, problems)
        if topic is None:
            continue
        if topic.scope != path.parent.name:
            problems.append(
                Problem(relative, _line_of(node, ("scope",)), "scope",
                        f"{topic.scope!r} does not match directory {path.parent.name!r}")
            )
        if topic.topic != path.stem:
            problems.append(
                Problem(relative, _line_of(node, ("topic",)), "topic",
                        f"{topic.topic!r} does not match file name {path.stem!r}")
            )
        content.topics[(topic.scope, topic.topic)] = topic
        content.topic_paths[(topic.scope, topic.topic)] = path
    return content


def chain_of(content: ContentSet, slug: str) -> list[str]:
    """Scopes from the municipality up to federal: town -> Kreis -> state -> federal."""
    parents = {m.slug: m.parent for m in content.municipalities}
    chain: list[str] = []
    current: str | None = slug
    while current is not None and current not in chain and current in parents:
        chain.append(current)
        current = parents[current]
    return [*chain, FEDERAL]
