"""`python -m orchestrator demo`: the whole flow on this machine, no accounts needed.

It starts the real local server and worker, stand-ins for Discord's and GitHub's APIs (the
GitHub one also delivers signed `workflow_run` webhooks to the server, as GitHub does), plays
Discord's side with signed requests, and prints what users would see, step by step.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from orchestrator.adapters.local_server import LocalRuntime
from orchestrator.audit.report import format_event
from orchestrator.observability.logging import configure_logging
from orchestrator.settings import load_settings
from orchestrator_dev.demo.workflows import release_from_its_workflow, stock_repository
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub, FakeJob, FakeWorkflow
from orchestrator_dev.standins.fake_job_logs import FakeLogStorage
from orchestrator_dev.standins.http_standin import Fault
from orchestrator_dev.standins.signing import InteractionSigner

REPOSITORY = "acme/delivery"
OPS_CHANNEL = "1150000000000000099"
BOT_TOKEN = "MTE1MDAwMDAwMDAwMDAwMDAwMDE.GdemoX.demo-bot-token-not-a-real-one-0123456789"  # noqa: S105 - stand-in
ALICE: dict[str, Any] = {"user_id": "1150000000000000010", "username": "alice", "global_name": "Alice"}
BOB: dict[str, Any] = {"user_id": "1150000000000000020", "username": "bob", "global_name": "Bob"}
CAROL: dict[str, Any] = {"user_id": "1150000000000000030", "username": "carol", "global_name": "Carol"}
WORKFLOWS = {
    "diagnose.yml": FakeWorkflow(
        id=101,
        name="Diagnose",
        inputs={"target": True, "verbose": False, "trace_id": False, "requested_by": False, "prompt": False},
        run_name_input="trace_id",
        jobs=(
            FakeJob("health checks", ("Set up job", "Probe endpoints")),
            FakeJob("report", ("Set up job", "Write report", "Complete job")),
        ),
    ),
    "deploy.yml": FakeWorkflow(
        id=102,
        name="Deploy",
        inputs={"environment": True, "version": True, "trace_id": False, "requested_by": False},
        run_name_input="trace_id",
        jobs=(FakeJob("deploy", ("Set up job", "Roll out", "Smoke test")),),
    ),
}


def run_demo() -> int:
    signer = InteractionSigner.generate()
    github_token = "ghp_" + secrets.token_urlsafe(27)[:36]
    webhook_secret = secrets.token_urlsafe(24)
    with (
        tempfile.TemporaryDirectory(prefix="orchestrator-demo-") as workdir,
        # Opened before the stand-ins and closed after them: their threads log until they stop.
        (Path(workdir) / "orchestrator.log").open("w", encoding="utf-8") as log_stream,
        FakeLogStorage() as log_storage,
        FakeGitHub(
            github_token,
            REPOSITORY,
            WORKFLOWS,
            webhook_secret=webhook_secret,
            log_storage=log_storage,
        ) as github,
        FakeDiscord(signer.application_id, bot_token=BOT_TOKEN) as discord,
    ):
        configure_logging("demo", stream=log_stream)
        settings = load_settings(
            {
                "DISCORD_PUBLIC_KEY": signer.public_key_hex,
                "DISCORD_APPLICATION_ID": signer.application_id,
                "DISCORD_API_URL": discord.api_url,
                "GITHUB_TOKEN": github_token,
                "GITHUB_REPOSITORY": REPOSITORY,
                "GITHUB_API_URL": github.url,
                "GITHUB_WEBHOOK_SECRET": webhook_secret,
                "BUTTON_SIGNING_SECRET": secrets.token_urlsafe(32),
                "STATE_STORE": f"sqlite:///{Path(workdir) / 'state.db'}",
                "ENABLE_DEBUG_CMD": "true",
                "ENABLE_ALERTS": "true",
                "ALERT_CHANNEL_ID": OPS_CHANNEL,
                "DISCORD_BOT_TOKEN": BOT_TOKEN,
                # Two commands at once per user, then one every 30 s: Bob's third try is refused.
                "RATE_LIMIT_BURST": "2",
                "RATE_LIMIT_PER_MINUTE": "2",
            },
            in_lambda=False,
        )
        stock_repository(github, settings.commands_file)
        runtime = LocalRuntime(settings, port=0)  # the port the system chooses: none can be taken first
        github.deliver_webhooks_to(f"{runtime.url}/github/webhook")
        runtime.start()
        try:
            ok = Demo(runtime, signer, discord, github).play(github_token, settings.commands_file)
        finally:
            runtime.stop()
            log_stream.flush()
            log_lines = Path(log_stream.name).read_text(encoding="utf-8").count("\n")
    configure_logging("demo", level="WARNING", stream=sys.stderr)  # the log file is gone with its folder
    print(f"\n(The server wrote {log_lines} JSON log lines; `python -m orchestrator serve` prints them.)")
    return 0 if ok else 1


class Demo:
    def __init__(self, runtime: LocalRuntime, signer: InteractionSigner, discord: FakeDiscord, github: FakeGitHub):
        self.runtime = runtime
        self.signer = signer
        self.discord = discord
        self.github = github
        self.client = httpx.Client(base_url=runtime.url, timeout=10)

    def play(self, github_token: str, commands_file: Path) -> bool:
        print(
            f"Local server on {self.runtime.url}; stand-in Discord on {self.discord.url}, GitHub on {self.github.url}"
        )
        step("Discord checks the endpoint: a forged request, then a signed PING")
        forged = self.client.post("/interactions", content=b'{"type":1}', headers=self.signer.headers(b"{}"))
        print(f"  forged → {forged.status_code} {forged.text}")
        print(f"  PING   → {self.send(self.signer.ping())}")

        step("Alice types /diagnose target:staging")
        diagnose = self.command("diagnose", {"target": "staging"}, ALICE)
        run_id = self.github.runs[-1]["id"]
        self.show("Discord shows", diagnose["token"])

        step("GitHub starts the run and works through its jobs (webhooks tell the bot)")
        self.github.advance_job(run_id)
        self.settle()
        self.show("Discord shows", diagnose["token"])
        while self.github.run(run_id)["status"] != "completed":
            self.github.advance_job(run_id)
        self.settle()
        self.show("Discord shows", diagnose["token"])

        recovered = self.failing_run()

        step("Alice runs /deploy environment:production version:v1.4.2 (confirm: true)")
        deploy = self.signer.application_command("deploy", {"environment": "production", "version": "v1.4.2"}, **ALICE)
        answer = self.send(deploy, raw=True)
        print(f"  Only Alice sees: {answer['data']['content']}")
        buttons = {b["label"]: b["custom_id"] for b in answer["data"]["components"][0]["components"]}
        print(f"  (buttons: {', '.join(buttons)})")
        print(f"  Bob presses Confirm → {self.press(buttons['Confirm'], BOB)['data']['content']}")
        press = self.signer.button_press(buttons["Confirm"], **ALICE)
        self.discord.open_interaction(press["token"], channel_id=press["channel_id"], ephemeral=True)
        print(f"  Alice presses Confirm → {self.send(press, raw=True)['data']['content']}")
        self.settle()
        live = self.discord.followups_for(press["token"])
        deploy_run = self.github.runs[-1]["id"]
        self.github.advance_job(deploy_run)
        self.settle()
        print("  The run's own message (a follow-up everyone sees):")
        self.show("", press["token"], followup=True)

        step("Bob, then Alice, press the live message's Cancel run button")
        cancel = next(
            c["custom_id"]
            for row in live[-1]["components"]
            for c in row["components"]
            if c.get("label") == "Cancel run"
        )
        for who in (BOB, ALICE):
            pressed = self.signer.button_press(cancel, **who)
            self.discord.open_interaction(pressed["token"], channel_id=pressed["channel_id"], ephemeral=True)
            self.send(pressed, raw=True)
            self.settle()
            reply = self.discord.followups_for(pressed["token"])
            print(f"  {who['global_name']} is told: {reply[-1]['content'] if reply else '(nothing)'}")
        self.settle()
        self.show("Discord shows", press["token"], followup=True)

        step("GitHub refuses two dispatches in a row (a workflow lost its trigger): one alert")
        refusal = {"message": "Workflow does not have 'workflow_dispatch' trigger", "status": "422"}
        for attempt in ("first", "second"):
            self.github.inject(Fault(method="POST", path=r"/dispatches$", status=422, body=refusal))
            failed = self.command("diagnose", {"target": "production"}, BOB)
            embed = ((self.discord.message_for(failed["token"]) or {}).get("embeds") or [{}])[0]
            print(f"  Bob's {attempt} try: {embed.get('title')}: {embed.get('description')}")
        alerts = self.discord.channel_messages(OPS_CHANNEL)
        print(f"  The ops channel got {len(alerts)} alert (the repeat was suppressed):")
        for message in alerts:
            for line in render_message(message):
                print(f"  │ {line}")

        step("Bob tries a third time at once: over his rate limit (2 at once, then 2 a minute)")
        limited = self.signer.application_command("diagnose", {"target": "production"}, **BOB)
        slowed = self.send(limited, raw=True)
        print(f"  Only Bob sees: {slowed['data']['content']}")

        step("Alice runs /debug-last: her last command's trace, only she sees it")
        debug = self.command("debug-last", {}, ALICE, ephemeral=True)
        for line in ((self.discord.message_for(debug["token"]) or {}).get("content") or "").splitlines():
            print(f"  │ {line}")

        released = release_from_its_workflow(self, github_token, commands_file)

        step("An operator reads the audit trail (`python -m orchestrator audit`)")
        trail = self.runtime.state.audit.query(since=0)  # newest first, as `audit` prints it
        for event in trail:
            print(f"  {format_event(event)}")
        self.client.close()
        finished = self.github.run(run_id)["conclusion"] == "success"
        cancelled = self.github.run(deploy_run)["conclusion"] == "cancelled"
        outcomes = [event.outcome for event in trail]
        audited = (
            outcomes.count("rate_limited") == 1
            and outcomes.count("failed") == 2
            and {"run_cancelled", "confirmed", "rerun"} <= set(outcomes)
        )
        dispatched_once = len(self.github.dispatches) == 4
        return finished and recovered and cancelled and released and dispatched_once and len(alerts) == 1 and audited

    def failing_run(self) -> bool:
        """Carol's run fails: the message says where and why, Show log and /debug-last say more,
        and Re-run failed jobs brings it to ✅. True when it ends succeeded on attempt 2."""
        step("Carol runs /diagnose target:production, and its report job fails")
        failing = self.command("diagnose", {"target": "production"}, CAROL)
        run_id = self.github.runs[-1]["id"]
        self.github.advance_job(run_id)
        self.github.set_run_status(run_id, "completed", "failure")
        self.settle()
        self.show("Discord shows (the failed step and the error GitHub annotated)", failing["token"])
        buttons = _buttons(self.discord.message_for(failing["token"]) or {})

        step("Carol presses Show log: the step's last lines, redacted, only to her")
        for line in self.press_run_button(buttons["Show log"], CAROL).splitlines():
            print(f"  │ {line}")

        step("Carol runs /debug-last: the trace goes on past dispatch to the run's failure")
        debug = self.command("debug-last", {}, CAROL, ephemeral=True)
        for line in ((self.discord.message_for(debug["token"]) or {}).get("content") or "").splitlines():
            print(f"  │ {line}")

        step("Carol presses Re-run failed jobs; attempt 2 passes")
        print(f"  Carol is told: {self.press_run_button(buttons['Re-run failed jobs'], CAROL)}")
        while self.github.run(run_id)["status"] != "completed":
            self.github.advance_job(run_id)
        self.settle()
        self.show("Discord shows", failing["token"])
        return bool(self.github.run(run_id)["conclusion"] == "success" and self.github.reruns == [(run_id, False)])

    def press_run_button(self, custom_id: str, who: Mapping[str, Any]) -> str:
        """Press a failed run's button; what only the presser is then told."""
        pressed = self.signer.button_press(custom_id, **who)
        self.discord.open_interaction(pressed["token"], channel_id=pressed["channel_id"], ephemeral=True)
        self.send(pressed, raw=True)
        self.settle()
        return str((self.discord.message_for(pressed["token"]) or {}).get("content") or "(nothing)")

    def command(
        self, name: str, options: dict[str, Any], who: Mapping[str, Any], *, ephemeral: bool = False
    ) -> dict[str, Any]:
        payload = self.signer.application_command(name, options, **who)
        self.discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=ephemeral)
        print(f"  POST /interactions → {self.send(payload)}")
        self.settle()
        return payload

    def press(self, custom_id: str, who: Mapping[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.send(self.signer.button_press(custom_id, **who), raw=True)
        return answer

    def send(self, payload: dict[str, Any], *, raw: bool = False) -> Any:
        body = self.signer.encode(payload)
        response = self.client.post("/interactions", content=body, headers=self.signer.headers(body))
        return response.json() if raw else f"{response.status_code} {response.text}"

    def settle(self) -> None:
        """Let webhook deliveries and the worker finish what they were given."""
        for _ in range(3):
            self.github.wait_for_deliveries(timeout=10)
            self.runtime.queue.wait_idle(timeout=30)
            time.sleep(0.05)

    def show(self, title: str, token: str, *, followup: bool = False) -> None:
        message = (self.discord.followups_for(token) or [{}])[-1] if followup else self.discord.message_for(token)
        if title:
            print(f"  {title}:")
        for line in render_message(message or {}):
            print(f"  │ {line}")


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
            target = button.get("url") or "(button)"
            lines.append(f"[{button.get('label')}] → {target}")
    return lines


def _buttons(message: Mapping[str, Any]) -> dict[str, str]:
    return {
        button["label"]: button.get("custom_id") or button.get("url", "")
        for row in message.get("components") or []
        for button in row.get("components") or []
    }


def step(title: str) -> None:
    print(f"\n▶ {title}")
