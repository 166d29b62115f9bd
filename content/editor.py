"""In-place edits of content files that change only the inserted or replaced bytes.

Editors' comments, quoting, flow style and right-to-left text stay exactly as written: the
file is composed with PyYAML to find where things are, the edits are spliced into the text,
and the result is parsed again and compared with the intended data before anything is saved.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from content.schema import source_hash
from core.language import SOURCE_LANGUAGE

Value = str | bool | dict[str, "Value"]


class EditError(Exception):
    """The file cannot be edited safely; it was left unchanged."""


@dataclass(frozen=True)
class _Splice:
    start: int
    end: int
    text: str


def _entry(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next(((k, v) for k, v in node.value if k.value == key), None)


def _last_leaf(node: yaml.Node) -> yaml.Node:
    """The node whose end is the end of `node`'s text (block collections end late in PyYAML)."""
    while isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style \
            and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return node


def _plain_ok(text: str) -> bool:
    return bool(re.fullmatch(r"[\w.:/-]+", text)) and yaml.safe_load(text) == text


def _scalar(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if _plain_ok(value) else json.dumps(value, ensure_ascii=False)
    raise TypeError(f"not a scalar: {value!r}")


def _literal_ok(text: str) -> bool:
    lines = text.rstrip("\n").split("\n")
    return (
        "\n" in text.strip()
        and not text.startswith((" ", "\n"))
        and all(line == line.rstrip() and "\t" not in line for line in lines)
        and all(ch.isprintable() for line in lines for ch in line)
    )


def _block(key: str, value: Value, indent: int, step: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        lines = [f"{pad}{key}:"]
        for inner_key, inner in value.items():
            lines += _block(inner_key, inner, indent + step, step)
        return lines
    if isinstance(value, str) and _literal_ok(value):
        inner = " " * (indent + step)
        body = [f"{inner}{line}" if line else "" for line in value.rstrip("\n").split("\n")]
        return [f"{pad}{key}: |", *body]
    return [f"{pad}{key}: {_scalar(value)}"]


class TopicEditor:
    """Collects edits to one YAML file and applies them only if the result parses as intended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        try:
            self.node = yaml.compose(self.text)
            self.data = yaml.safe_load(self.text)
        except yaml.YAMLError as exc:
            raise EditError(f"{path}: invalid YAML, fix it first ({exc})") from exc
        if not isinstance(self.data, dict) or self.node is None:
            raise EditError(f"{path}: not a mapping")
        self.expected = copy.deepcopy(self.data)
        self._splices: list[_Splice] = []

    def _node_at(self, *keys: str | int) -> yaml.Node:
        node: yaml.Node = self.node
        for key in keys:
            if isinstance(key, int) and isinstance(node, yaml.SequenceNode):
                node = node.value[key]
                continue
            found = _entry(node, str(key))
            if found is None:
                raise EditError(f"{self.path}: no {'.'.join(map(str, keys))}")
            node = found[1]
        return node

    def _expected_at(self, *keys: str | int) -> dict[str, object]:
        target: object = self.expected
        for key in keys:
            target = target[key]  # type: ignore[index]
        assert isinstance(target, dict)
        return target

    def set(self, keys: tuple[str | int, ...], key: str, value: Value) -> None:
        """Sets `key` in the mapping at `keys`: replaces its scalar or adds a new entry."""
        mapping = self._node_at(*keys)
        if not isinstance(mapping, yaml.MappingNode):
            raise EditError(f"{self.path}: {'.'.join(map(str, keys))} is not a mapping")
        found = _entry(mapping, key)
        if found is not None:
            old = found[1]
            if not isinstance(old, yaml.ScalarNode) or isinstance(value, dict):
                raise EditError(f"{self.path}: cannot replace {key} in place")
            self._splices.append(_Splice(old.start_mark.index, old.end_mark.index, _scalar(value)))
        else:
            self._splices.append(self._insertion(mapping, key, value))
        self._expected_at(*keys)[key] = copy.deepcopy(value)

    def _insertion(self, mapping: yaml.MappingNode, key: str, value: Value) -> _Splice:
        if mapping.flow_style:
            close = mapping.end_mark.index - 1
            if self.text[close] != "}":
                raise EditError(f"{self.path}: unexpected flow mapping at line "
                                f"{mapping.start_mark.line + 1}")
            separator = ", " if mapping.value else ""
            flow = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) \
                else _scalar(value)
            return _Splice(close, close, f"{separator}{key}: {flow}")
        if not mapping.value:
            raise EditError(f"{self.path}: cannot add to an empty block mapping")
        indent = mapping.value[0][0].start_mark.column
        step = self._step(mapping)
        end = _last_leaf(mapping).end_mark
        if end.column == 0:
            position = end.index
        else:
            newline = self.text.find("\n", end.index)
            position = len(self.text) if newline < 0 else newline + 1
        prefix = "" if position == 0 or self.text[position - 1] == "\n" else "\n"
        lines = _block(key, value, indent, step)
        return _Splice(position, position, prefix + "\n".join(lines) + "\n")

    @staticmethod
    def _step(mapping: yaml.MappingNode) -> int:
        """The indentation step the file uses for nested mappings (2 when it cannot tell)."""
        for key, value in mapping.value:
            if isinstance(value, yaml.MappingNode) and not value.flow_style and value.value:
                return max(value.value[0][0].start_mark.column - key.start_mark.column, 1)
        return 2

    @property
    def changed(self) -> bool:
        return bool(self._splices)

    def result(self) -> str:
        text = self.text
        for splice in sorted(self._splices, key=lambda s: s.start, reverse=True):
            text = text[: splice.start] + splice.text + text[splice.end:]
        return text

    def save(self) -> bool:
        """Writes the file when something changed; refuses when the result is not as intended."""
        if not self._splices:
            return False
        text = self.result()
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise EditError(f"{self.path}: the edit would break the file ({exc})") from exc
        if parsed != self.expected:
            raise EditError(f"{self.path}: the edit would not give the intended data; "
                            "edit this file by hand")
        self.path.write_text(text, encoding="utf-8")
        return True


def stamp_file(path: Path, restamp: bool = False) -> list[str]:
    """Records the current German hash in translations without one (or in all: `restamp`)."""
    editor = TopicEditor(path)
    answer = editor.data.get("answer")
    if not isinstance(answer, dict) or not isinstance(answer.get(SOURCE_LANGUAGE), dict):
        raise EditError(f"{path}: no German answer text")
    current = source_hash(str(answer[SOURCE_LANGUAGE].get("text", "")))
    stamped = []
    for language, translation in answer.items():
        if language == SOURCE_LANGUAGE or not isinstance(translation, dict):
            continue
        recorded = translation.get("source_hash")
        if recorded == current or (recorded and not restamp):
            continue
        editor.set(("answer", language), "source_hash", current)
        stamped.append(language)
    editor.save()
    return stamped
