"""Checks the Lambda artifacts `sam build` made (CI runs it after the build; see .ci/run).

    python -m orchestrator_dev.artifact.check .aws-sam/build/template.yaml --python python3.13 \
        [--importable DIR]

For each function of the built template, its code folder must hold only the runtime package,
commands.yaml (compiled into commands.yaml.json, from exactly its text), prompts/ and what
requirements.lock installed (nothing of tests, dev tools, benchmarks, local state or caches);
every module must have a .pyc the runtime loads without checking its source; native code must be
for the function's architecture. Its size is printed.
Then each handler is imported from an artifact with only that artifact and the standard library
on the path (probe.py): the deployed one when this machine can run its native code, else
`--importable`, the same build made for this machine.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

from orchestrator.commands.compiled import compiled_path, read_compiled

OWN_ENTRIES = frozenset({"orchestrator", "commands.yaml", "commands.yaml.json", "prompts", "__pycache__"})
# The runtime package's one part that only development uses: the benchmark's entry point
# (`python -m orchestrator.bench`, into orchestrator_dev). orchestrator_dev itself is never copied; were
# it there, it would be neither the runtime package nor a locked dependency.
DEV_ONLY_PARTS = ("orchestrator/bench.py",)
# What the Makefile copies of our own folders, by name; anything else there is a stray file.
OWN_FILES = {"orchestrator": ("*.py", "py.typed", "*__pycache__/*.pyc"), "prompts": ("*.md",)}
LOCAL_STATE_SUFFIXES = (".db", ".db-wal", ".db-shm", ".sqlite", ".sqlite3")
CACHE_FOLDERS = frozenset({".hypothesis", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".git", ".aws-sam"})
# ELF e_machine values, as platform.machine() names them.
ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64"}
LAMBDA_MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
PROBE = Path(__file__).with_name("probe.py")
MAKEFILE = Path(__file__).parents[2] / "Makefile"
# Settings that let every handler start without calling AWS (clients are built, never used).
PROBE_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "artifact-probe",
    "DISCORD_APPLICATION_ID": "123456789012345678",
    "GITHUB_REPOSITORY": "acme/artifact-probe",
    "GITHUB_TOKEN": "artifact-probe-token",
    "BUTTON_SIGNING_SECRET": "artifact-probe-signing-secret",  # pragma: allowlist secret (a stand-in)
    "STATE_TABLE": "artifact-probe",
    "WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/artifact-probe",
    "LOG_LEVEL": "WARNING",
}


@dataclass(frozen=True)
class Function:
    name: str
    code: Path
    handler: str
    runtime: str  # "python3.13"
    machine: str  # "aarch64"

    @property
    def cache_tag(self) -> str:
        return "cpython-" + self.runtime.removeprefix("python").replace(".", "")


def built_functions(template_path: Path) -> list[Function]:
    """The functions of a template `sam build` wrote, each with its code folder."""
    template: dict[str, Any] = yaml.safe_load(template_path.read_text(encoding="utf-8"))
    defaults = template.get("Globals", {}).get("Function", {})
    functions = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = {**defaults, **resource["Properties"]}
        [architecture] = properties.get("Architectures", ["x86_64"])
        functions.append(
            Function(
                name=name,
                code=template_path.parent / properties["CodeUri"],
                handler=properties["Handler"],
                runtime=properties["Runtime"],
                machine=LAMBDA_MACHINES[architecture],
            )
        )
    return functions


def installed_entries(folder: Path) -> set[str]:
    """Top-level names pip installed there (every *.dist-info's RECORD), with the dist-info folders."""
    entries: set[str] = set()
    for record in folder.glob("*.dist-info/RECORD"):
        entries.add(record.parent.name)
        for line in record.read_text(encoding="utf-8").splitlines():
            first = line.split(",", 1)[0].split("/", 1)[0]
            if first and first != "..":
                entries.add(first)
    return entries


def aws_services(makefile: Path = MAKEFILE) -> frozenset[str]:
    """The services whose botocore models the Makefile keeps (its AWS_SERVICES)."""
    for line in makefile.read_text(encoding="utf-8").splitlines():
        if line.startswith("AWS_SERVICES :="):
            return frozenset(line.partition(":=")[2].split())
    raise SystemExit(f"{makefile}: no AWS_SERVICES line")


def content_problems(folder: Path, *, cache_tag: str, services: frozenset[str] = frozenset()) -> list[str]:
    """What makes the folder more (or less) than the runtime's code, compiled for `cache_tag`, with
    botocore's models of `services` only."""
    if not (folder / "orchestrator" / "__init__.py").is_file():
        return [f"{folder}: no orchestrator package"]
    problems = [f"{folder}: no {name}" for name in ("commands.yaml", "prompts") if not (folder / name).exists()]
    problems += _commands_compiled_problems(folder / "commands.yaml")
    unexpected = sorted({entry.name for entry in folder.iterdir()} - OWN_ENTRIES - installed_entries(folder))
    problems += [
        f"{folder}: {name} is neither the runtime package nor a locked dependency" for name in sorted(unexpected)
    ]
    problems += [f"{folder}: {part} is for development only" for part in DEV_ONLY_PARTS if (folder / part).exists()]
    if (models := folder / "botocore" / "data").is_dir():
        kept = {path.name for path in models.iterdir() if path.is_dir()}
        problems += [f"{folder}: botocore has no model for {name}" for name in sorted(services - kept)]
        problems += [
            f"{folder}: botocore/data/{name} is a service the functions never call (AWS_SERVICES in the Makefile)"
            for name in sorted(kept - services)
        ]
    problems += [
        f"{folder}: {path.relative_to(folder)} is not one of the runtime's files (a stray or local file)"
        for part, patterns in OWN_FILES.items()
        for path in sorted((folder / part).rglob("*"))
        if path.is_file() and not any(fnmatch(str(path.relative_to(folder / part)), p) for p in patterns)
    ]
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.name in CACHE_FOLDERS or path.name.startswith(".venv"):
            problems.append(f"{folder}: {relative} is a cache or a virtualenv")
        elif path.name.endswith(LOCAL_STATE_SUFFIXES):
            problems.append(f"{folder}: {relative} is local state")
        elif path.suffix == ".py" and path.parent.name != "__pycache__":
            problems += [f"{folder}: {relative}: {issue}" for issue in _compiled_problems(path, cache_tag)]
    return problems


def _commands_compiled_problems(commands_file: Path) -> list[str]:
    """The functions skip PyYAML only with a compiled file made from exactly this commands file."""
    if not commands_file.is_file():
        return []
    if read_compiled(commands_file, commands_file.read_text(encoding="utf-8")) is None:
        return [f"{compiled_path(commands_file)} is missing or not compiled from {commands_file.name}"]
    return []


def _compiled_problems(source: Path, cache_tag: str) -> list[str]:
    compiled = source.parent / "__pycache__" / f"{source.stem}.{cache_tag}.pyc"
    if not compiled.is_file():
        return [f"no {compiled.name}"]
    # PEP 552: flags 0b01 is a hash-based .pyc whose source is not checked (mtimes do not survive the zip).
    flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
    return [] if flags == 0b01 else [f"{compiled.name} is checked against its source (flags {flags})"]


def native_machines(folder: Path) -> set[str]:
    """The machines the folder's native extensions are built for (read from their ELF headers)."""
    machines = set()
    for library in folder.rglob("*.so"):
        header = library.read_bytes()[:20]
        if header[:4] == b"\x7fELF":
            code = int.from_bytes(header[18:20], "little")
            machines.add(ELF_MACHINES.get(code, f"ELF machine {code:#x}"))
    return machines


def size_line(function: Function) -> str:
    files = [path for path in function.code.rglob("*") if path.is_file()]
    unzipped = sum(path.stat().st_size for path in files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(function.code))
    zipped = len(buffer.getvalue())
    return f"{function.name}: {len(files)} files, {unzipped / 1e6:.1f} MB unzipped, {zipped / 1e6:.1f} MB zipped"


def probe(python: str, folder: Path, handlers: Iterable[str], services: Iterable[str]) -> int:
    """Imports the handlers from the folder alone, in the runtime's Python, and builds a client of
    each service (probe.py)."""
    environment = {
        **{name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ},
        **PROBE_ENVIRONMENT,
        "PROBE_AWS_SERVICES": " ".join(sorted(services)),
    }
    command = [python, "-I", "-S", str(PROBE), str(folder.resolve()), *handlers]
    return subprocess.run(command, env=environment, cwd=folder, check=False).returncode


def check(template_path: Path, python: str, importable: Path | None) -> int:
    functions = built_functions(template_path)
    if not functions:
        print(f"{template_path}: no functions", file=sys.stderr)
        return 1
    services = aws_services()
    problems = []
    for function in functions:
        problems += content_problems(function.code, cache_tag=function.cache_tag, services=services)
        if (machines := native_machines(function.code)) != {function.machine}:
            problems.append(
                f"{function.code}: native code for {sorted(machines)}, the function runs on {function.machine}"
            )
        print(size_line(function))
    host = platform.machine()
    runnable = [f.code for f in functions if f.machine == host] or ([importable] if importable else [])
    if not runnable:
        problems.append(f"the artifacts are for {functions[0].machine}; give --importable, the same build for {host}")
    else:
        importable_folder = runnable[0]
        if importable_folder == importable:
            problems += content_problems(importable_folder, cache_tag=functions[0].cache_tag, services=services)
            print(f"importing from {importable_folder}: the same build for this machine ({host})")
        if probe(python, importable_folder, [f.handler for f in functions], services) != 0:
            problems.append(f"a handler cannot be imported from {importable_folder} alone (see above)")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestrator_dev.artifact.check", description=__doc__)
    parser.add_argument("template", type=Path, help="the template sam build wrote (.aws-sam/build/template.yaml)")
    parser.add_argument("--python", required=True, help="the runtime's Python (the functions' Runtime)")
    parser.add_argument("--importable", type=Path, help="the same build for this machine, when the artifacts are not")
    args = parser.parse_args(argv)
    return check(args.template, args.python, args.importable)


if __name__ == "__main__":
    raise SystemExit(main())
