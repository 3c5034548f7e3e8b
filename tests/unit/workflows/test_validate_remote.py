"""`validate --remote`: each command's workflow read from (stand-in) GitHub at its ref, through the
contents API as GitHub describes it, and compared with what the command sends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestrator.cli import main
from orchestrator_dev.standins.fake_github import FakeGitHub, FakeWorkflow
from orchestrator_dev.standins.signing import InteractionSigner
from tests.conftest import REPO_ROOT
from tests.contract.openapi import github_contract

TOKEN = "ghp_" + "remote" * 6
EXAMPLES = REPO_ROOT / "examples" / "workflows"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    signer = InteractionSigner.generate()
    with FakeGitHub(TOKEN, "acme/delivery", {}, refs=("main", "v2")) as fake:
        for name, value in {
            "DISCORD_PUBLIC_KEY": signer.public_key_hex,
            "DISCORD_APPLICATION_ID": signer.application_id,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_REPOSITORY": "acme/delivery",
            "GITHUB_API_URL": fake.url,
            "COMMANDS_FILE": str(REPO_ROOT / "commands.yaml"),
        }.items():
            monkeypatch.setenv(name, value)
        yield fake


def validate(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = main(["validate", "--remote"])
    return status, capsys.readouterr().out.strip().splitlines()


def test_the_shipped_commands_against_the_example_workflows_agree(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in EXAMPLES.glob("*.yml"):
        github.workflow_files[path.name] = path.read_text(encoding="utf-8")
    assert validate(capsys) == (0, [f"ok: {REPO_ROOT / 'commands.yaml'} defines 3 command(s)"])
    for request in github.requests:
        assert request.path.startswith("/repos/acme/delivery/contents/.github/workflows/")
        assert request.query == {"ref": "main"}
        github_contract().validate_request(request.method, request.path, body=request.json, query=request.query)


def test_drift_and_missing_files_are_one_line_each_and_fail(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    github.workflows["diagnose.yml"] = FakeWorkflow(1, "Diagnose", {"target": True, "trace_id": False})
    github.workflow_files["release.yml"] = (EXAMPLES / "release.yml").read_text(encoding="utf-8")
    status, lines = validate(capsys)
    assert status == 1
    assert lines == [
        "error: /deploy: deploy.yml at main in acme/delivery was not found (no such file on that branch or tag): "
        "an operator should check the command's `workflow:` and `ref:`",
        *(
            f"error: /diagnose: sends input {name!r}, which diagnose.yml (at main) does not declare (GitHub answers "
            "422): declare it under on.workflow_dispatch.inputs, or remove it from the command's inputs"
            for name in ("verbose", "requested_by", "prompt")
        ),
        "warning: /diagnose: diagnose.yml (at main) does not echo the trace id in its run-name: add "
        '`run-name: "… [${{ inputs.trace_id }}]"` so that its runs can be found where GitHub does not return '
        "their id (GitHub Enterprise Server)",
    ]


def test_a_file_that_is_not_a_workflow_or_a_token_that_cannot_read_is_named(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in EXAMPLES.glob("*.yml"):
        github.workflow_files[path.name] = path.read_text(encoding="utf-8")
    github.workflow_files["diagnose.yml"] = "on: [unclosed"
    status, lines = validate(capsys)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith(
        "error: /diagnose: diagnose.yml at main in acme/delivery cannot be read as a workflow: not valid YAML"
    )
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "wrong" * 7)
    status, lines = validate(capsys)
    assert status == 1 and all("GitHub would not let the bot read" in line and "(401)" in line for line in lines)
    assert all(TOKEN not in line for line in lines)


def test_with_no_settings_remote_reads_only_the_github_ones(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISCORD_PUBLIC_KEY", "DISCORD_APPLICATION_ID"):
        monkeypatch.delenv(name)
    for path in EXAMPLES.glob("*.yml"):
        github.workflow_files[path.name] = path.read_text(encoding="utf-8")
    assert main(["validate", "--no-settings", "--remote"]) == 0
    monkeypatch.delenv("GITHUB_TOKEN")
    assert main(["validate", "--no-settings", "--remote"]) == 1
    assert capsys.readouterr().out.strip().splitlines()[-1] == "settings: GITHUB_TOKEN: required but not set"
