"""`python -m orchestrator demo`: the whole flow on this machine, no accounts needed.

It starts the real local server and worker, stand-ins for Discord's and
GitHub's APIs, sends a signed /diagnose the way Discord would, and prints what
the user would see in Discord, step by step.
"""

from __future__ import annotations

import json
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from orchestrator.adapters.local_server import LocalRuntime
from orchestrator.devtools.fake_discord import FakeDiscord
from orchestrator.devtools.fake_github import FakeGitHub, FakeWorkflow
from orchestrator.devtools.signing import InteractionSigner
from orchestrator.observability.logging import configure_logging
from orchestrator.settings import load_settings

REPOSITORY = "acme/delivery"
ALICE: dict[str, Any] = {"user_id": "1150000000000000010", "username": "alice", "global_name": "Alice"}
DIAGNOSE = FakeWorkflow(
    id=101,
    name="Diagnose",
    inputs={"target": True, "verbose": False, "trace_id": False, "requested_by": False, "prompt": False},
    run_name_input="trace_id",
)


def run_demo() -> int:
    signer = InteractionSigner.generate()
    github_token = "ghp_" + secrets.token_urlsafe(27)[:36]
    with (
        tempfile.TemporaryDirectory(prefix="orchestrator-demo-") as workdir,
        FakeGitHub(github_token, REPOSITORY, {"diagnose.yml": DIAGNOSE}) as github,
        FakeDiscord(signer.application_id) as discord,
    ):
        log_path = Path(workdir) / "orchestrator.log"
        with log_path.open("w", encoding="utf-8") as log_stream:
            configure_logging("demo", stream=log_stream)
            settings = load_settings(
                {
                    "DISCORD_PUBLIC_KEY": signer.public_key_hex,
                    "DISCORD_APPLICATION_ID": signer.application_id,
                    "DISCORD_API_URL": discord.api_url,
                    "GITHUB_TOKEN": github_token,
                    "GITHUB_REPOSITORY": REPOSITORY,
                    "GITHUB_API_URL": github.url,
                    "STATE_STORE": f"sqlite:///{Path(workdir) / 'state.db'}",
                    "ENABLE_DEBUG_CMD": "true",
                },
                in_lambda=False,
            )
            runtime = LocalRuntime(settings, port=0)
            runtime.start()
            try:
                ok = _play(runtime, signer, discord, github)
            finally:
                runtime.stop()
        log_lines = log_path.read_text(encoding="utf-8").count("\n")
    print(f"\n(The server wrote {log_lines} JSON log lines; `python -m orchestrator serve` prints them.)")
    return 0 if ok else 1


def _play(runtime: LocalRuntime, signer: InteractionSigner, discord: FakeDiscord, github: FakeGitHub) -> bool:
    print(f"Local server on {runtime.url}; stand-in Discord on {discord.url}, stand-in GitHub on {github.url}\n")
    with httpx.Client(base_url=runtime.url, timeout=10) as client:
        _step("Discord checks the endpoint with a forged request")
        forged = signer.encode(signer.ping())
        response = client.post("/interactions", content=forged, headers={**signer.headers(b"{}")})
        print(f"  POST /interactions (bad signature) → {response.status_code} {response.text}")

        _step("Discord sends a signed PING")
        body = signer.encode(signer.ping())
        response = client.post("/interactions", content=body, headers=signer.headers(body))
        print(f"  POST /interactions → {response.status_code} {response.text}")

        _step("Alice types /diagnose target:staging")
        interaction = signer.application_command("diagnose", {"target": "staging"}, **ALICE)
        discord.open_interaction(interaction["token"], channel_id=interaction["channel_id"], ephemeral=False)
        body = signer.encode(interaction)
        response = client.post("/interactions", content=body, headers=signer.headers(body))
        print(f"  POST /interactions → {response.status_code} {response.text}")
        print("  Discord shows: Orchestrator is thinking…")

        _step("The worker dispatches the workflow and edits the message")
        runtime.queue.wait_idle(timeout=30)
        for dispatch in github.dispatches:
            print(f"  GitHub received a dispatch: {_short(dispatch)}")
        message = discord.message_for(interaction["token"]) or {}
        print("  Discord now shows:")
        for line in render_message(message):
            print(f"  │ {line}")

        _step("Bob forgets a required option: he is told why, and only he sees it")
        incomplete = signer.application_command("diagnose", {}, user_id="1150000000000000020", username="bob")
        body = signer.encode(incomplete)
        reply = client.post("/interactions", content=body, headers=signer.headers(body)).json()
        print(f"  Ephemeral reply: {reply['data']['content']}")

        _step("Alice runs /debug-last: her last command's trace, only she sees it")
        debug = signer.application_command("debug-last", {}, **ALICE)
        discord.open_interaction(debug["token"], channel_id=debug["channel_id"], ephemeral=True)
        body = signer.encode(debug)
        response = client.post("/interactions", content=body, headers=signer.headers(body))
        print(f"  POST /interactions → {response.status_code} {response.text}")
        runtime.queue.wait_idle(timeout=30)
        report = (discord.message_for(debug["token"]) or {}).get("content", "")
        for line in report.splitlines():
            print(f"  │ {line}")
    components = message.get("components") or []
    return bool(components) and len(github.dispatches) == 1 and "trace `" in report


def render_message(message: Mapping[str, Any]) -> list[str]:
    """A Discord message as plain lines: content, embeds, buttons."""
    lines: list[str] = [message["content"]] if message.get("content") else []
    for embed in message.get("embeds") or []:
        lines.append(f"[{embed.get('title', '')}]")
        lines.extend(str(embed.get("description", "")).splitlines())
        lines.extend(f"{f['name']}: {f['value']}" for f in embed.get("fields") or [])
        if embed.get("footer"):
            lines.append(embed["footer"]["text"])
    for row in message.get("components") or []:
        for button in row.get("components") or []:
            target = button.get("url") or button.get("custom_id")
            lines.append(f"(button) {button.get('label')} → {target}")
    return lines


def _short(dispatch: Mapping[str, Any]) -> str:
    inputs = {k: (v if len(v) <= 40 else v[:37] + "...") for k, v in (dispatch.get("inputs") or {}).items()}
    return json.dumps({"ref": dispatch.get("ref"), "inputs": inputs})


def _step(title: str) -> None:
    print(f"\n▶ {title}")
