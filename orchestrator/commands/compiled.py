"""The commands file compiled at build time: its YAML read once into JSON, beside it.

PyYAML's import alone costs a cold start ~11 ms, a third of what the interactions function adds to
a bare boto3 process (`python -m orchestrator.bench`). The Lambda build (Makefile) writes
`commands.yaml.json` next to `commands.yaml`; loading reads it instead of the YAML when it was
compiled from exactly the YAML's text (its SHA-256), and reads the YAML otherwise, so an edited,
missing or damaged compiled file costs time, never correctness.

    python -m orchestrator.commands.compiled commands.yaml

Only PyYAML and the standard library are imported, so the build runs it from the artifact it
writes, whatever machine that artifact's native code is for.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

COMPILED_SUFFIX = ".json"


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
    from orchestrator.commands.yaml_document import NotYaml, read_yaml

    target = compiled_path(commands_file)
    target.unlink(missing_ok=True)
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
    compiled = {"sha256": _digest(text), "document": document.data}
    target.write_text(json.dumps(compiled, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    return target


def _not_json(value: object, where: str = "") -> str | None:
    """Where `value` holds something JSON would not give back as the same Python value."""
    if value is None or isinstance(value, str | bool | int):
        return None
    place = where or "top level"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{place}: {value!r} has no JSON form"
    if isinstance(value, list):
        return next((p for i, item in enumerate(value) if (p := _not_json(item, f"{where}[{i}]"))), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{place}: the key {key!r} is not text"
            if problem := _not_json(item, f"{where}.{key}" if where else key):
                return problem
        return None
    return f"{place}: a YAML {type(value).__name__} has no JSON form (quote it to make it text)"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m orchestrator.commands.compiled COMMANDS_FILE\n")
        return 2
    try:
        written = compile_commands(Path(argv[0]))
    except (OSError, UnicodeDecodeError) as exc:
        sys.stderr.write(f"commands file not compiled: {argv[0]}: cannot read ({type(exc).__name__})\n")
        return 1
    except NotCompiled as exc:
        sys.stderr.write(f"commands file not compiled: {exc}\n")
        return 1 if exc.broken else 0
    sys.stdout.write(f"compiled {argv[0]} into {written}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
