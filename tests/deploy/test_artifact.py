"""The Lambda artifact: the Makefile `sam build` runs, the lock it installs, and the check CI runs on
what it makes (.ci/artifact builds it for real; these keep the pieces in step without building)."""

from __future__ import annotations

import json
import os
import py_compile
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from nacl.signing import SigningKey
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from samtranslator.yaml_helper import yaml_parse

from orchestrator.commands.compiled import compile_commands
from orchestrator_dev.artifact.check import (
    DEV_ONLY_PARTS,
    LAMBDA_MACHINES,
    PROBE_ENVIRONMENT,
    aws_services,
    built_functions,
    content_problems,
    native_machines,
)
from tests.conftest import REPO_ROOT

MAKEFILE = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
LOCK = (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8")
CACHE_TAG = sys.implementation.cache_tag


def template() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse((REPO_ROOT / "template.yaml").read_text(encoding="utf-8"))
    return parsed


def functions() -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def make_variable(name: str) -> str:
    found = re.search(rf"^{name} \??:?= (.+)$", MAKEFILE, re.MULTILINE)
    assert found, f"the Makefile sets no {name}"
    return found.group(1)


def locked() -> dict[str, tuple[str, list[str]]]:
    """Each locked package's version and hashes."""
    pins: dict[str, tuple[str, list[str]]] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", LOCK.split("\n", 2)[2]):
        name, version = re.match(r"([A-Za-z0-9_.-]+)==([^ ;\\]+)", entry).groups()  # type: ignore[union-attr]
        pins[canonicalize_name(name)] = (version, re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
    return pins


def test_every_function_is_built_by_the_makefile() -> None:
    targets = set(re.findall(r"\bbuild-(\w+)", MAKEFILE.split(".PHONY:", 1)[1].split(":", 1)[0]))
    for name, function in functions().items():
        assert function["Metadata"]["BuildMethod"] == "makefile", name
        assert name in targets, f"sam build runs `make build-{name}`, which the Makefile does not have"
    assert template()["Globals"]["Function"]["CodeUri"] == "."  # the Makefile reads the checkout


def test_it_builds_for_the_runtime_and_architecture_the_template_deploys() -> None:
    defaults = template()["Globals"]["Function"]
    assert not any({"Runtime", "Architectures"} & set(f["Properties"]) for f in functions().values())
    version = make_variable("LAMBDA_PYTHON_VERSION")
    assert defaults["Runtime"] == f"python{version}"
    assert make_variable("PYTHON") == f"python{version}"  # .pyc files are for the Python that wrote them
    [architecture] = defaults["Architectures"]
    assert make_variable("LAMBDA_MACHINE") == LAMBDA_MACHINES[architecture]


def test_it_installs_the_lock_with_hashes_compiles_and_leaves_the_dev_parts_out() -> None:
    for flag in ("--require-hashes", "-r requirements.lock", "--only-binary=:all:", "--no-compile"):
        assert flag in MAKEFILE, flag
    assert "find orchestrator -type f \\( -name '*.py' -o -name py.typed \\)" in MAKEFILE
    assert "find prompts -type f -name '*.md'" in MAKEFILE
    for part in DEV_ONLY_PARTS:
        assert f'"$(ARTIFACTS_DIR)/{part}"' in MAKEFILE, part
    assert "compileall -q -j 0 --invalidation-mode unchecked-hash" in MAKEFILE


def test_the_lock_pins_every_runtime_requirement_with_hashes() -> None:
    pins = locked()
    for line in (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            version, _ = pins[canonicalize_name(requirement.name)]
            assert requirement.specifier.contains(version), f"{requirement}: the lock has {version}"
    assert all(hashes for _, hashes in pins.values()), [name for name, (_, hashes) in pins.items() if not hashes]


def test_the_lock_is_refreshed_as_the_runbook_says() -> None:
    command = re.search(r"^#    (uv pip compile .+)$", LOCK, re.MULTILINE)
    assert command, "the lock names the command that made it"
    assert command.group(1) in (REPO_ROOT / "RUNBOOK.md").read_text(encoding="utf-8")
    # For every Python the project supports and every platform: the tests (3.11, 3.13) and Lambda alike.
    assert "--universal --python-version 3.11 --generate-hashes" in command.group(1)


def test_ci_runs_the_readme_test_command_which_installs_the_lock() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    [command] = re.findall(r"^    (python3 -m venv .venv && .+ -m pytest)$", readme, re.MULTILINE)
    assert "pip install -q --require-hashes -r requirements.lock && .venv/bin/pip install -q -e" in command
    ci = (REPO_ROOT / ".ci/run").read_text(encoding="utf-8")
    assert f"\n{command}\n" in ci
    assert ".venv313/bin/pip install -q --require-hashes -r requirements.lock" in ci
    assert 'bash .ci/artifact "$py313"' in ci


def test_the_handlers_never_import_the_dev_only_packages() -> None:
    """What the Makefile leaves out must be what the functions never load (CI then imports them from
    the artifact alone)."""
    modules = [f["Properties"]["Handler"].rpartition(".")[0] for f in functions().values()]
    environment = {
        **PROBE_ENVIRONMENT,
        "PATH": os.environ.get("PATH", ""),
        "DISCORD_PUBLIC_KEY": SigningKey.generate().verify_key.encode().hex(),
    }
    script = "import importlib, json, sys\nfor m in sys.argv[1:]: importlib.import_module(m)\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script, *modules],
        env=environment,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert set(modules) <= set(loaded)
    dev_only = ("orchestrator_dev", *(part.removesuffix(".py").replace("/", ".") for part in DEV_ONLY_PARTS))
    assert not [name for name in loaded if name.startswith(dev_only)]


def compiled(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    py_compile.compile(str(path), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH, doraise=True)
    return path


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    """The shape `make build-…` gives: the package, its files, one locked library with its RECORD."""
    compiled(tmp_path / "orchestrator" / "__init__.py")
    compiled(tmp_path / "orchestrator" / "adapters" / "lambda_x.py", "handler = print\n")
    (tmp_path / "commands.yaml").write_text("commands: {}\n", encoding="utf-8")
    compile_commands(tmp_path / "commands.yaml")
    (tmp_path / "prompts").mkdir()
    compiled(tmp_path / "dep" / "__init__.py")
    (tmp_path / "dep-1.0.dist-info").mkdir()
    (tmp_path / "dep-1.0.dist-info" / "RECORD").write_text("dep/__init__.py,,\ndep-1.0.dist-info/RECORD,,\n")
    return tmp_path


def test_the_check_accepts_the_runtime_code_alone(artifact: Path) -> None:
    assert content_problems(artifact, cache_tag=CACHE_TAG) == []


def test_the_check_names_everything_else(artifact: Path) -> None:
    compiled(artifact / "tests" / "test_x.py")
    compiled(artifact / "orchestrator_dev" / "__init__.py")
    compiled(artifact / "orchestrator" / "bench.py")
    (artifact / "orchestrator" / ".hypothesis").mkdir()
    (artifact / "dep" / "state.db").write_bytes(b"")
    (artifact / "orchestrator" / "stale.py").write_text("", encoding="utf-8")
    py_compile.compile(str(artifact / "orchestrator" / "stale.py"), doraise=True)  # checked against its source
    (artifact / "orchestrator" / "raw.py").write_text("", encoding="utf-8")
    problems = "\n".join(content_problems(artifact, cache_tag=CACHE_TAG))
    assert "tests is neither the runtime package nor a locked dependency" in problems
    assert "orchestrator_dev is neither the runtime package nor a locked dependency" in problems
    assert "orchestrator/bench.py is for development only" in problems
    assert "orchestrator/.hypothesis is a cache" in problems
    assert "dep/state.db is local state" in problems
    assert f"orchestrator/stale.py: stale.{CACHE_TAG}.pyc is checked against its source" in problems
    assert f"orchestrator/raw.py: no raw.{CACHE_TAG}.pyc" in problems


def test_the_check_names_stray_files_in_the_package_and_prompts(artifact: Path) -> None:
    (artifact / "prompts" / "diagnose.md").write_text("", encoding="utf-8")
    strays = ["orchestrator/.env", "orchestrator/cli.py.orig", "orchestrator/adapters/notes.txt", "prompts/draft.md~"]
    for stray in strays:
        (artifact / stray).write_text("", encoding="utf-8")
    problems = content_problems(artifact, cache_tag=CACHE_TAG)
    assert problems == [
        f"{artifact}: {stray} is not one of the runtime's files (a stray or local file)" for stray in sorted(strays)
    ]


def test_the_check_needs_the_commands_file_and_prompts(artifact: Path) -> None:
    (artifact / "commands.yaml").unlink()
    (artifact / "prompts").rmdir()
    assert content_problems(artifact, cache_tag=CACHE_TAG) == [
        f"{artifact}: no commands.yaml",
        f"{artifact}: no prompts",
    ]


def test_the_check_needs_the_commands_file_compiled_from_its_text(artifact: Path) -> None:
    (artifact / "commands.yaml").write_text("commands: {edited: {}}\n", encoding="utf-8")
    stale = [f"{artifact}/commands.yaml.json is missing or not compiled from commands.yaml"]
    assert content_problems(artifact, cache_tag=CACHE_TAG) == stale
    (artifact / "commands.yaml.json").unlink()
    assert content_problems(artifact, cache_tag=CACHE_TAG) == stale


def test_the_makefile_compiles_the_commands_file_with_the_locked_pyyaml_for_this_machine() -> None:
    recipe = " ".join(MAKEFILE[MAKEFILE.index("scratch=$$(mktemp -d)") :].replace("\\\n", " ").split())
    # The lock's PyYAML entry, every hash of it, is what pip installs for this machine (libyaml
    # with it: the functions' parser). make's `$$` is the shell's `$`.
    select = re.search(r"awk '.*?' requirements\.lock", recipe)
    assert select is not None
    done = subprocess.run(
        ["bash", "-c", select.group(0).replace("$$", "$")], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    version, hashes = locked()["pyyaml"]
    assert done.stdout.splitlines()[0] == f"pyyaml=={version} \\"
    assert re.findall(r"--hash=sha256:([0-9a-f]{64})", done.stdout) == hashes
    assert '--no-deps --require-hashes --only-binary=:all: --target "$$scratch/site"' in recipe
    # Then the artifact's own package beside it, nothing of this checkout or a virtualenv, nothing written.
    assert (
        'PYTHONPATH="$$scratch/site:$(ARTIFACTS_DIR)" "$(PYTHON)" -P -S -B -m orchestrator.commands.compiled' in recipe
    )
    assert MAKEFILE.index("cp commands.yaml") < MAKEFILE.index("scratch=$$(mktemp -d)")


def test_native_code_is_read_for_its_machine(tmp_path: Path) -> None:
    # An ELF header up to e_machine: 0xB7 is AArch64, 0x3E x86-64.
    (tmp_path / "a.abi3.so").write_bytes(b"\x7fELF" + bytes(14) + (0xB7).to_bytes(2, "little"))
    (tmp_path / "b.so").write_bytes(b"\x7fELF" + bytes(14) + (0x3E).to_bytes(2, "little"))
    assert native_machines(tmp_path) == {"aarch64", "x86_64"}


def test_the_built_template_gives_each_function_its_folder_handler_and_platform(tmp_path: Path) -> None:
    built = {
        "Globals": {"Function": {"Runtime": "python3.13", "Architectures": ["arm64"], "CodeUri": "."}},
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "m.handler", "CodeUri": "Fn"}},
        },
    }
    (tmp_path / "template.yaml").write_text(yaml.safe_dump(built), encoding="utf-8")
    [function] = built_functions(tmp_path / "template.yaml")
    assert (function.name, function.code, function.handler) == ("Fn", tmp_path / "Fn", "m.handler")
    assert (function.machine, function.cache_tag) == ("aarch64", "cpython-313")


def test_the_makefile_keeps_the_model_of_every_service_the_functions_call() -> None:
    runtime = [
        path
        for path in (REPO_ROOT / "orchestrator").rglob("*.py")
        if not path.relative_to(REPO_ROOT).as_posix().startswith(DEV_ONLY_PARTS)
    ]
    source = "\n".join(path.read_text(encoding="utf-8") for path in runtime)
    called = set(re.findall(r"""\bclient\(\s*["']([a-z0-9-]+)["']""", source))
    if "parameters.get_parameter" in source:  # Powertools' Parameters: SSM
        called.add("ssm")
    if "DynamoDBPersistenceLayer" in source:  # Powertools' Idempotency: DynamoDB
        called.add("dynamodb")
    assert called == {"dynamodb", "sqs", "ssm"}  # a new one: add it here and to AWS_SERVICES
    assert aws_services() == called


def test_the_check_names_botocore_models_left_in_or_out(artifact: Path) -> None:
    for name in ("sqs", "s3"):
        (artifact / "botocore" / "data" / name).mkdir(parents=True)
    (artifact / "dep-1.0.dist-info" / "RECORD").write_text("dep/__init__.py,,\nbotocore/__init__.py,,\n")
    compiled(artifact / "botocore" / "__init__.py")
    problems = content_problems(artifact, cache_tag=CACHE_TAG, services=frozenset({"sqs", "ssm"}))
    assert problems == [
        f"{artifact}: botocore has no model for ssm",
        f"{artifact}: botocore/data/s3 is a service the functions never call (AWS_SERVICES in the Makefile)",
    ]
