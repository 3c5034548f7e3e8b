"""The demo's /release: a command whose options come from its workflow file, and a ref picked from
suggestions as the user types (`options_from_workflow`, `autocomplete: refs` in commands.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from orchestrator.clients.github_api import GitHubClient
from orchestrator.commands.loader import load_commands
from orchestrator.workflows.remote import checked_commands
from orchestrator_dev.standins.fake_github import FakeGitHub, FakeJob, FakeWorkflow

if TYPE_CHECKING:
    from orchestrator_dev.demo.endpoint import Demo

RELEASE_WORKFLOW = FakeWorkflow(
    id=103,
    name="Release",
    inputs={
        "source": True,
        "version": True,
        "channel": False,
        "dry_run": False,
        "trace_id": False,
        "requested_by": False,
    },
    run_name_input="trace_id",
    jobs=(FakeJob("release", ("Set up job", "Build", "Publish")),),
)
DAVE: dict[str, Any] = {"user_id": "1150000000000000040", "username": "dave", "global_name": "Dave"}
_SOURCES = {"refs": "branches and tags"}
_KINDS = {"string": "text", "boolean": "true/false", "number": "a number", "integer": "a whole number"}


def stock_repository(github: FakeGitHub, commands_file: Path) -> None:
    """The repository /release works on: its workflow file as shipped in examples/, branches and tags."""
    github.workflows["release.yml"] = RELEASE_WORKFLOW
    example = commands_file.parent / "examples" / "workflows" / "release.yml"
    if example.is_file():
        github.workflow_files["release.yml"] = example.read_text(encoding="utf-8")
    github.branches = ["main", "maint/1.4", "feature/login"]
    github.tags = ["v1.4.2", "v1.4.1", "v1.3.0"]


def release_from_its_workflow(demo: Demo, token: str, commands_file: Path) -> bool:
    """True when /release ran once with the options its workflow declares and a suggested ref."""
    from orchestrator_dev.demo.endpoint import step

    step("An operator runs `register`: /release's options are read from release.yml on GitHub")
    with httpx.Client(timeout=10) as http:
        github = GitHubClient(http, demo.github.url, token, demo.github.repository)
        derived, problems = checked_commands(load_commands(commands_file), github, demo.github.repository)
    release = derived.commands["release"]
    for option in release.options:
        offered = (
            f"suggests {_SOURCES.get(option.autocomplete, option.autocomplete)}"
            if option.autocomplete
            else ", ".join(map(str, option.choices))
        )
        required = "required" if option.required else "optional"
        print(f"  {option.name}: {_KINDS[option.type]}, {required}{'; ' + offered if offered else ''}")
    print(f"  (trace_id and requested_by are filled by the bot; {len(problems)} problem(s) with the workflows)")

    step("Dave types /release source:ma… and Discord asks the bot for suggestions as he types")
    typing = demo.signer.application_command("release", {}, focused=("source", "ma"), **DAVE)
    first = [choice["value"] for choice in demo.send(typing, raw=True)["data"]["choices"]]
    print(f"  first keystroke (nothing cached yet): {first}; the worker reads the branches and tags")
    demo.settle()
    again = demo.signer.application_command("release", {}, focused=("source", "ma"), **DAVE)
    suggested = [choice["value"] for choice in demo.send(again, raw=True)["data"]["choices"]]
    print(f"  next keystroke: {suggested}")

    step("Dave picks main: /release source:main version:1.5.0 channel:stable")
    payload = demo.command("release", {"source": "main", "version": "1.5.0", "channel": "stable"}, DAVE)
    demo.show("Discord shows", payload["token"])
    sent = demo.github.dispatches[-1]["inputs"] if demo.github.dispatches else {}
    print(f"  the workflow received: {sent}")
    return suggested[:2] == ["main", "maint/1.4"] and sent.get("source") == "main" and sent.get("channel") == "stable"
