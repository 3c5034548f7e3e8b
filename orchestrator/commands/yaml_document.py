"""The commands file's YAML read into plain data, noting any key given twice.

A module of its own, the one place the commands path imports PyYAML (~11 ms of a cold start): a
function whose commands file was compiled at build time (compiled.py) never loads it. It imports
only PyYAML and the standard library, so that the build can run it from the artifact it writes,
whatever machine the artifact's native code is for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


class NotYaml(ValueError):
    """The text is not valid YAML; the message names the line and the problem."""


@dataclass(frozen=True)
class YamlDocument:
    data: object
    duplicates: list[str]  # one line each: where a mapping gives a key twice


def read_yaml(text: str) -> YamlDocument:
    try:
        loader = _UniqueKeysLoader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise NotYaml(_error_line(exc)) from None
    except (ValueError, TypeError, AttributeError, LookupError, OverflowError, RecursionError) as exc:
        # PyYAML's constructors raise these, with no line, for a tagged value they cannot make
        # (`!!float abc`, `!!timestamp 2026-13-45`, `!!int ""`, `!!bool abc`).
        raise NotYaml(f"a value cannot be read: {type(exc).__name__}: {exc}") from None
    return YamlDocument(data, loader.duplicates)


def parses_with_libyaml() -> bool:
    """Whether read_yaml uses libyaml here, as the functions do (the pure-Python parser accepts
    and refuses some texts differently: a tab at the end of a line, for one)."""
    return issubclass(_UniqueKeysLoader, getattr(yaml, "CSafeLoader", ()))


class _UniqueKeysLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (the C one when libyaml is there: a fraction of the cost) that notes a key
    given twice in one mapping, where YAML would silently keep the last: two commands of the same
    name must not pass as one."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # Keys as built, compared as the dict they go into compares them: `yes` and `true` are one
        # key, `'true'` and `true` two. Merge keys (`<<`) are YAML's own, resolved by the constructor.
        seen: set[object] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node)
            if key in seen:
                self.duplicates.append(
                    f"line {key_node.start_mark.line + 1}: {key_node.value!r} is given twice in one mapping "
                    "(YAML would keep only the last): remove or rename one"
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value: int = super().construct_yaml_int(node)
        # A hexadecimal, octal or binary literal has no length limit, but Python will not write an
        # integer of over 4,300 digits in decimal (ValueError): every message naming it would fail.
        str(value)
        return value


_MERGE_TAG = "tag:yaml.org,2002:merge"
_UniqueKeysLoader.add_constructor("tag:yaml.org,2002:int", _UniqueKeysLoader.construct_yaml_int)


def _error_line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "syntax error"
    return f"line {mark.line + 1}: {problem}" if mark is not None else str(problem)
