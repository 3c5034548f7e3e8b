"""`python -m orchestrator_dev.bench.load [--faults]`: signed commands from many users against the real `serve`.

The stand-in Discord and GitHub run in this process; `python -m orchestrator serve` runs as a
process of its own, so every request crosses a real loopback socket. Commands go out open-loop
(each on its schedule, never waiting for earlier answers). Then, within a bound, we wait for
every deferred message to get its final edit, and check: every answer a 200 type 5 within
Discord's 3 s, no 5xx, exactly one run per command, none lost. Under `--faults` GitHub and
Discord fail some calls (5xx, 429, resets, answers after the client's timeout), and a command
may honestly end "not started" or "may or may not have started", but never run twice.

Each command carries its interaction id in an option the commands file sends to the workflow,
so every dispatch the stand-in GitHub sees names the interaction it came from.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from orchestrator_dev.bench.load_faults import DISPATCH_PATH, FAULT_KINDS, InjectedFault, spread
from orchestrator_dev.bench.load_report import (
    ACK_DEADLINE_SECONDS,
    DEFERRED,
    LoadReport,
    Sent,
    final_message,
    first_final_edit_at,
    is_truthful,
)
from orchestrator_dev.demo.serve_process import LOG_FILE, json_line, serve_environment, serve_running
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub, FakeWorkflow
from orchestrator_dev.standins.http_standin import Request
from orchestrator_dev.standins.signing import InteractionSigner, snowflake

REPOSITORY = "acme/load"
COMMAND = "load"
REQUEST_OPTION = "request"  # the interaction id, sent to the workflow to tell dispatches apart
WORKFLOW_NAME = "Load"
WORKFLOWS = {
    "load.yml": FakeWorkflow(
        id=1_000,
        name=WORKFLOW_NAME,
        inputs={REQUEST_OPTION: True, "trace_id": False},
        run_name_input="trace_id",
    )
}
COMMANDS_YAML = f"""
commands:
  {COMMAND}:
    description: A load test's command
    workflow: load.yml
    options:
      - name: {REQUEST_OPTION}
        type: string
        description: Which request this is
        required: true
    inputs:
      {REQUEST_OPTION}: "{{{REQUEST_OPTION}}}"
      trace_id: "{{trace_id}}"
"""
# Well past Discord's 3 s, so a late answer is measured rather than cut off.
CLIENT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# After the last final message: how long no dispatch may arrive before we count (a late one would be a duplicate).
SETTLE_SECONDS = 1.0


def run_load(
    commands: int = 200,
    users: int = 50,
    seconds: float = 10.0,
    faults: Sequence[InjectedFault] = (),
    *,
    drain_timeout: float = 120.0,
) -> LoadReport:
    """Send `commands` signed commands from `users` users, evenly over `seconds`, and check the outcome."""
    if commands < 1 or not 1 <= users <= commands or seconds < 0:
        raise ValueError("need at least one command, between 1 and `commands` users, and seconds >= 0")
    signer = InteractionSigner.generate()
    github_token = "ghp_" + secrets.token_urlsafe(27)[:36]
    with (
        tempfile.TemporaryDirectory(prefix="orchestrator-load-") as workdir,
        FakeGitHub(github_token, REPOSITORY, WORKFLOWS) as github,
        FakeDiscord(signer.application_id) as discord,
    ):
        environment = serve_environment(
            Path(workdir),
            signer,
            github,
            discord,
            github_token=github_token,
            commands_yaml=COMMANDS_YAML,
            # The load measures the server at full tilt: the bot-wide dispatch limit would refuse most of it.
            DISPATCH_RATE_PER_MINUTE="0",
        )
        with serve_running(Path(workdir), environment) as serve:
            url = serve.url
            sent = [_open(signer, discord, i, commands, users, seconds) for i in range(commands)]
            started = time.monotonic()
            _send_all(url, signer, sent, spread(faults, commands), github, discord, started)
            answered = time.monotonic()
            settle = SETTLE_SECONDS + max((f.fault.delay for f in faults), default=0.0)
            drained = _drain(sent, github, discord, deadline=answered + drain_timeout, settle=settle)
        log = (Path(workdir) / LOG_FILE).read_text(encoding="utf-8", errors="replace")
        return _check(
            [record for record, _ in sent],
            github,
            discord,
            Load(commands, users, seconds, faults),
            drain=None if drained is None else drained - answered,
            log=log,
            secret=github_token,
        )


def _open(
    signer: InteractionSigner, discord: FakeDiscord, index: int, commands: int, users: int, seconds: float
) -> tuple[Sent, bytes]:
    """Command `index`: its body, from user `index % users`, with its deferred message open on Discord."""
    interaction_id = snowflake()
    user = index % users
    payload = signer.application_command(
        COMMAND,
        {REQUEST_OPTION: interaction_id},
        interaction_id=interaction_id,
        user_id=str(1_150_000_000_000_001_000 + user),
        username=f"user{user}",
        global_name=f"User {user}",
    )
    discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=False)
    return Sent(interaction_id, payload["token"], due=index * seconds / commands), signer.encode(payload)


def _send_all(
    url: str,
    signer: InteractionSigner,
    sent: Sequence[tuple[Sent, bytes]],
    plan: dict[int, list[InjectedFault]],
    github: FakeGitHub,
    discord: FakeDiscord,
    started: float,
) -> None:
    """Open-loop: each request leaves at its time, on a pool thread, whatever came back before.
    Returns once every request has its answer (or its error)."""
    limits = httpx.Limits(max_connections=len(sent), max_keepalive_connections=len(sent))
    with (
        httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT, limits=limits) as client,
        ThreadPoolExecutor(max_workers=min(len(sent), 100), thread_name_prefix="load") as pool,
    ):
        for index, (record, body) in enumerate(sent):
            delay = started + record.due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            for injected in plan.get(index, []):
                (github if injected.target == "github" else discord).inject(injected.fault)
            pool.submit(_send_one, client, signer, record, body, started)


def _send_one(client: httpx.Client, signer: InteractionSigner, record: Sent, body: bytes, started: float) -> None:
    headers = signer.headers(body)  # signed as it leaves, as Discord does
    sending = time.monotonic()
    record.lag = sending - started - record.due
    record.sent_at = time.time()
    try:
        response = client.post("/interactions", content=body, headers=headers)
    except httpx.TransportError as exc:
        record.error = type(exc).__name__
        return
    record.latency = time.monotonic() - sending
    record.status = response.status_code
    try:
        answer = response.json()
    except ValueError:
        return
    if isinstance(answer, dict) and isinstance(answer.get("type"), int):
        record.answer_type = answer["type"]


def _drain(
    sent: Sequence[tuple[Sent, bytes]], github: FakeGitHub, discord: FakeDiscord, *, deadline: float, settle: float
) -> float | None:
    """When every message had its final edit (monotonic), or None past `deadline`; then wait until
    no dispatch has arrived for `settle` seconds (a late one would be a duplicate we must count)."""
    # Only a deferred answer promises an edit; anything else is already counted as a wrong answer.
    waiting = [record for record, _ in sent if record.answer_type == DEFERRED]
    while True:
        waiting = [record for record in waiting if final_message(discord.message_for(record.token)) is None]
        if not waiting:
            break
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)
    drained = time.monotonic()
    while time.monotonic() < deadline:
        arrivals = [request.time for request in _dispatch_requests(github)]
        if time.time() - max(arrivals, default=0.0) >= settle:
            break
        time.sleep(0.05)
    return drained


def _dispatch_requests(github: FakeGitHub) -> list[Request]:
    return [r for r in github.requests_to("POST") if re.search(DISPATCH_PATH, r.path)]


@dataclass(frozen=True)
class Load:
    commands: int
    users: int
    seconds: float
    faults: Sequence[InjectedFault]


def _check(
    records: Sequence[Sent],
    github: FakeGitHub,
    discord: FakeDiscord,
    load: Load,
    *,
    drain: float | None,
    log: str,
    secret: str,
) -> LoadReport:
    # The stand-in names each run "<workflow> [<trace id>]", the documented run-name convention.
    link_of = {run["display_title"].removeprefix(f"{WORKFLOW_NAME} ")[1:-1]: run["html_url"] for run in github.runs}
    runs: dict[str, list[str]] = {}
    for dispatch in github.dispatches:
        inputs = dispatch["inputs"]
        runs.setdefault(inputs[REQUEST_OPTION], []).append(link_of.get(inputs["trace_id"], "?"))
    outcomes: Counter[str] = Counter()
    lost, missing, to_final = [], [], []
    unknown_with_run = 0
    for record in records:
        history = discord.history_for(record.token)
        final = final_message(history[-1] if history else None)
        kind, link = final or ("none", None)
        outcomes[kind] += 1
        started_runs = runs.get(record.interaction_id, [])
        unknown_with_run += kind == "unknown" and bool(started_runs)
        edited_at = first_final_edit_at(history)
        if edited_at is not None and record.sent_at:
            to_final.append(edited_at - record.sent_at)
        if final is None or not is_truthful(kind, link, started_runs):
            lost.append(record.interaction_id)
        if not load.faults and (kind != "linked" or len(started_runs) != 1):
            missing.append(record.interaction_id)
    answered = [r for r in records if r.status is not None]
    entries = [json_line(line) for line in log.splitlines()]
    return LoadReport(
        commands=load.commands,
        users=load.users,
        seconds=load.seconds,
        faults=tuple(f.label for f in load.faults),
        latencies=tuple(r.latency for r in answered if r.latency is not None),
        to_final=tuple(to_final),
        statuses=dict(Counter(r.status for r in answered if r.status is not None)),
        wrong_answers=sum(1 for r in answered if r.status != 200 or r.answer_type != DEFERRED),
        unanswered=len(records) - len(answered),
        late=sum(1 for r in answered if (r.latency or 0.0) > ACK_DEADLINE_SECONDS),
        max_send_lag=max((r.lag for r in records), default=0.0),
        dispatch_requests=len(_dispatch_requests(github)),
        runs_started=len(github.dispatches),
        outcomes=dict(outcomes),
        unknown_with_run=unknown_with_run,
        duplicates=tuple(iid for iid, links in runs.items() if len(links) > 1),
        missing=tuple(missing),
        lost=tuple(lost),
        drain_seconds=drain,
        faults_left=len(github.pending_faults) + len(discord.pending_faults),
        log_levels=dict(Counter(str(entry.get("level", "not JSON")) for entry in entries)),
        log_problems=dict(
            Counter(f"{e['level']}: {e.get('msg')}" for e in entries if e.get("level") in ("warn", "error"))
        ),
        secret_in_log=secret in log,
    )


def main(argv: list[str] | None = None, out: IO[str] = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestrator_dev.bench.load", description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--faults", action="store_true", help="GitHub and Discord fail some calls (twice each kind)")
    args = parser.parse_args(argv)
    report = run_load(args.commands, args.users, args.seconds, FAULT_KINDS * 2 if args.faults else ())
    print(report.render(), file=out)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
