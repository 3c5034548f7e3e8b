""".github/workflows/bot-smoke.yml: its triggers, pinned actions, and checks that exist in this project."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.cli import main
from tests.conftest import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "bot-smoke.yml"
# An exact release tag (v4.2.2) or a full commit SHA: never a moving major tag or a branch.
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")
CHECKS = {
    "ruff": "ruff check .",
    "format": "ruff format --check .",
    "mypy": "mypy",
    "pytest": "python -m pytest",
    "validate": "python -m orchestrator validate --no-settings",
    "cfnlint": "cfn-lint template.yaml",
    "secrets": "detect-secrets-hook --baseline",
}


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return document


def steps_of(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    [job] = workflow["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def test_runs_on_pull_requests_touching_the_project_daily_and_on_demand(workflow: dict[Any, Any]) -> None:
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    paths: list[str] = triggers["pull_request"]["paths"]
    # Only the two forms this check reads: a folder's whole tree, or one file.
    assert all(path.count("*") == 0 or (path.endswith("/**") and path.count("*") == 2) for path in paths), paths
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    uncovered = [
        name
        for name in tracked
        if not any(name == path or (path.endswith("/**") and name.startswith(path[:-2])) for path in paths)
    ]
    assert tracked and uncovered == [], "a pull request changing these would run no check"
    [schedule] = triggers["schedule"]
    assert len(schedule["cron"].split()) == 5 and schedule["cron"].split()[2:] == ["*", "*", "*"]
    assert "workflow_dispatch" in triggers


def test_every_action_is_pinned_to_an_exact_version(workflow: dict[Any, Any]) -> None:
    uses = [step["uses"] for step in steps_of(workflow) if "uses" in step]
    assert uses and all(PINNED.match(ref) for ref in uses), uses
    [setup] = [step for step in steps_of(workflow) if step.get("uses", "").startswith("actions/setup-python@")]
    assert setup["with"]["python-version"] == "${{ matrix.python }}"
    [job] = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["python"] == ["3.13", "3.11"]  # the deployed runtime and the oldest


def test_every_check_runs_and_blocks(workflow: dict[Any, Any]) -> None:
    by_id = {step.get("id"): step for step in steps_of(workflow)}
    for step_id, command in CHECKS.items():
        step = by_id[step_id]
        assert command in step["run"], step_id
        assert not step.get("continue-on-error"), step_id
        # Runs after an earlier check failed, unless the install itself did not work.
        assert step["if"] == "${{ !cancelled() && steps.install.outcome == 'success' }}", step_id
    assert 'pip install -e ".[dev]"' in by_id["install"]["run"]
    summary = steps_of(workflow)[-1]
    assert summary["if"] == "${{ always() }}" and "GITHUB_STEP_SUMMARY" in summary["run"]
    assert all(f"steps.{step_id}.outcome" in summary["env"]["RESULTS"] for step_id in CHECKS)


def test_the_tools_it_calls_are_installed_by_the_dev_extra() -> None:
    scripts = Path(sys.executable).parent
    for tool in ("ruff", "mypy", "cfn-lint", "detect-secrets-hook"):
        assert (scripts / tool).is_file(), tool


def test_the_validate_step_passes_on_the_shipped_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.delenv("COMMANDS_FILE", raising=False)
    assert main(["validate", "--no-settings"]) == 0


def test_the_secret_baseline_is_the_pinned_scanners() -> None:
    baseline = json.loads((REPO_ROOT / ".secrets.baseline").read_text(encoding="utf-8"))
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"detect-secrets=={baseline["version"]}"' in pyproject
    assert baseline["results"], "the tests' fake secrets are listed, not hidden by turning plugins off"


def test_ci_requires_the_discord_contract_that_a_plain_clone_skips(workflow: dict[Any, Any]) -> None:
    [job] = workflow["jobs"].values()
    assert "DISCORD_OPENAPI_REQUIRED" not in job.get("env", {})  # GitHub's runners have no shared/
    assert "DISCORD_OPENAPI_REQUIRED=1" in (REPO_ROOT / ".ci/run").read_text(encoding="utf-8")
    assert 'os.environ.get("DISCORD_OPENAPI_REQUIRED") != "1"' in (REPO_ROOT / "tests/contract/openapi.py").read_text(
        encoding="utf-8"
    )


def test_the_secret_scan_step_passes_on_this_tree(workflow: dict[Any, Any], tmp_path: Path) -> None:
    """The step exactly as the workflow runs it: a fake secret added without refreshing the baseline
    (`detect-secrets scan --baseline .secrets.baseline`) fails here, not first on GitHub."""
    [scan] = [step for step in steps_of(workflow) if step.get("id") == "secrets"]
    tools = str(Path(sys.executable).parent)
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", scan["run"]],
        cwd=REPO_ROOT,
        env={**os.environ, "RUNNER_TEMP": str(tmp_path), "PATH": f"{tools}:{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_the_remote_drift_check_runs_only_where_configured(workflow: dict[Any, Any]) -> None:
    [step] = [step for step in steps_of(workflow) if step.get("id") == "remote"]
    assert "vars.ORCHESTRATOR_WORKFLOWS_REPOSITORY != ''" in step["if"]
    assert step["env"]["GITHUB_TOKEN"] == "${{ secrets.ORCHESTRATOR_WORKFLOWS_TOKEN }}"
    assert step["run"].endswith("python -m orchestrator validate --no-settings --remote")
