"""The commands file compiled at build time: its YAML read once into JSON, beside it.

PyYAML's import alone costs a cold start ~11 ms, a third of what the interactions function adds to
a bare boto3 process (`python -m orchestrator.bench`). The Lambda build (Makefile) writes
`commands.yaml.json` next to `commands.yaml`; loading reads it instead of the YAML when it was
compiled from exactly the YAML's text (its SHA-256), and reads the YAML otherwise, so an edited,
missing or damaged compiled file costs time, never correctness.

    python -m orchestrator.commands.compiled commands.yaml

It compiles only with libyaml, the parser the functions use (PyYAML's pure-Python one accepts and
refuses some texts differently). Only PyYAML and the standard library are imported, so the build
runs it on the artifact's own package whatever machine that artifact's native code is for.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

COMPILED_SUFFIX = ".json"
# Beyond this many values, or characters of text, the YAML is left to the functions. Aliases count
# each time they are used, as JSON writes them out: a commands file holds hundreds of values and a
# few thousand characters, and an alias "bomb" must neither hang the build nor fill its disk.
MAX_VALUES = 100_000
MAX_CHARACTERS = 10_000_000


class NotCompiled(ValueError):
    """The file was not compiled; the message says why. `broken`: no bot could load it either
    (not YAML, a key given twice), so the build stops; otherwise the function reads the YAML."""

    def __init__(self, message: str, *, broken: bool) -> None:
        super().__init__(message)
        self.broken = broken


def compiled_path(commands_file: Path) -> Path:
    return commands_file.with_name(commands_file.name + COMPILED_SUFFIX)


def read_compiled(commands_file: Path, text: str) -> object | None:
    """The document compiled from exactly `text`, or None: nothing compiled, compiled from another
    text, or not readable as what compile_commands writes."""
    try:
        compiled = json.loads(compiled_path(commands_file).read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(compiled, dict) or compiled.get("sha256") != _digest(text):
        return None
    return compiled.get("document")


def compile_commands(commands_file: Path) -> Path:
    """Write the compiled file for `commands_file`, or raise NotCompiled (after removing a
    compiled file that no longer matches, so that loading reads the YAML)."""
    from orchestrator.commands.yaml_document import NotYaml, parses_with_libyaml, read_yaml

    target = compiled_path(commands_file)
    target.unlink(missing_ok=True)
    if not parses_with_libyaml():
        raise NotCompiled("this PyYAML has no libyaml, which the functions read YAML with", broken=False)
    text = commands_file.read_text(encoding="utf-8")
    try:
        document = read_yaml(text)
    except NotYaml as exc:
        raise NotCompiled(f"{commands_file}: not valid YAML ({exc})", broken=True) from None
    if document.duplicates:
        raise NotCompiled(f"{commands_file}: {document.duplicates[0]}", broken=True)
    problem = _not_json(document.data)
    if problem is not None:
        raise NotCompiled(f"{commands_file}: {problem}; the functions will read the YAML", broken=False)
    try:
        # NaN and ±Infinity as Python's json writes and reads them back; lone surrogates escaped.
        compiled = json.dumps({"sha256": _digest(text), "document": document.data})
    except RecursionError as exc:  # 3.11's json stops at sys.getrecursionlimit(), below libyaml's nesting
        raise NotCompiled(f"{commands_file}: {exc}; the functions will read the YAML", broken=False) from None
    # Written whole or not at all: a half-written file would only be ignored, but costs a cold start.
    unfinished = target.with_name(target.name + ".partial")
    unfinished.write_text(compiled, encoding="utf-8")
    os.replace(unfinished, target)
    return target


def _not_json(document: object) -> str | None:
    """Where `document` holds something JSON would not give back as the same Python value."""
    pending: list[tuple[str, object]] = [("", document)]
    counted = characters = 0
    while pending:
        counted += 1
        if counted > MAX_VALUES:
            return f"over {MAX_VALUES:,} values (aliases counted each time they are used)"
        if characters > MAX_CHARACTERS:
            return f"over {MAX_CHARACTERS:,} characters of text (aliases counted each time they are used)"
        where, value = pending.pop()
        if isinstance(value, str):
            characters += len(value)
            continue
        if value is None or isinstance(value, bool | int | float):
            continue
        place = where or "top level"
        if isinstance(value, list):
            pending += [(f"{where}[{i}]", item) for i, item in enumerate(value)]
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    return f"{place}: the key {key!r} is not text"
                characters += len(key)
                pending.append((f"{where}.{key}" if where else key, item))
        else:
            return f"{place}: a YAML {type(value).__name__} has no JSON form (quote it to make it text)"
    return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m orchestrator.commands.compiled COMMANDS_FILE\n")
        return 2
    try:
        written = compile_commands(Path(argv[0]))
    except (OSError, UnicodeError) as exc:
        sys.stderr.write(f"commands file not compiled: {argv[0]}: cannot read or write ({type(exc).__name__})\n")
        return 1
    except NotCompiled as exc:
        sys.stderr.write(f"commands file not compiled: {exc}\n")
        return 1 if exc.broken else 0
    sys.stdout.write(f"compiled {argv[0]} into {written}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
