"""Every command attempt is audited once, with who, what, where, when, trace, run and outcome."""

from __future__ import annotations

import io
import json
import secrets
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator.audit.model import AuditEvent
from orchestrator.audit.report import format_event, parse_since, run_audit
from orchestrator.audit.trail import AuditTrail
from orchestrator.cli import main
from orchestrator.commands.invocation import Invocation
from orchestrator.state.memory import MemoryAuditStore

ROLE = "1150000000000000099"


def test_secrets_in_option_values_never_reach_the_trail_or_its_log_line(captured_logs: io.StringIO) -> None:
    token = "ghp_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
    store = MemoryAuditStore()
    event = AuditEvent(
        invocation=Invocation(
            interaction_id="1150000000000000011",
            trace_id="a" * 32,
            command="diagnose",
            options={"target": f"staging {token}"},
            user_id="1150000000000000010",
            user_name="Alice",
            guild_id=None,
            channel_id=None,
            roles=(ROLE,),
        ),
        at=time.time(),
        outcome="accepted",
    )
    AuditTrail(store).record(event)
    [kept] = store.query(since=0)
    assert token not in json.dumps(kept.to_dict())
    assert "[redacted:" in str(kept.invocation.options["target"])
    line = json.loads(captured_logs.getvalue().splitlines()[-1])
    assert line["msg"] == "audit" and line["outcome"] == "accepted" and line["trace_id"] == "a" * 32
    assert token not in captured_logs.getvalue()


class FailingStore:
    def record(self, event: AuditEvent, *, expires_at: float) -> None:
        raise OSError("throttled")

    def query(self, **kwargs: Any) -> list[AuditEvent]:
        return []


def test_a_store_failure_never_fails_the_command(captured_logs: io.StringIO) -> None:
    event = AuditEvent(
        invocation=Invocation(
            interaction_id="2",
            trace_id="b" * 32,
            command="deploy",
            options={},
            user_id="1",
            user_name="A",
            guild_id=None,
            channel_id=None,
            roles=(),
        ),
        at=time.time(),
        outcome="denied",
    )
    AuditTrail(FailingStore()).record(event)
    assert "audit event not stored" in captured_logs.getvalue()
    assert '"msg":"audit"' in captured_logs.getvalue().replace(" ", ""), "the log line still carries the event"


def test_the_audit_command_reads_the_trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    monkeypatch.setenv("STATE_STORE", url)
    from orchestrator.state.store import open_state_store

    store = open_state_store(url).audit
    now = time.time()
    for at, user, outcome in (
        (now - 7200, "1150000000000000010", "accepted"),
        (now - 60, "1150000000000000020", "denied"),
    ):
        store.record(
            AuditEvent(
                invocation=Invocation(
                    interaction_id="3",
                    trace_id="c" * 32,
                    command="deploy",
                    options={"environment": "prod"},
                    user_id=user,
                    user_name="Alice",
                    guild_id="1",
                    channel_id="2",
                    roles=(ROLE,),
                ),
                at=at,
                outcome=outcome,
            ),
            expires_at=now + 3600,
        )
    out, err = io.StringIO(), io.StringIO()
    assert run_audit(user_id=None, since="1h", limit=10, as_json=False, out=out, err=err) == 0
    [line] = out.getvalue().splitlines()
    assert "denied" in line and "/deploy" in line and "environment=prod" in line and "trace " + "c" * 32 in line
    assert "1 event(s)" in err.getvalue()

    out = io.StringIO()
    assert run_audit(user_id="1150000000000000010", since="1d", limit=10, as_json=True, out=out, err=err) == 0
    assert [json.loads(x)["outcome"] for x in out.getvalue().splitlines()] == ["accepted"]
    assert main(["audit", "--since", "3h"]) == 0


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--since", "yesterday"], "--since"),
        (["--user", "alice"], "--user"),
        (["--limit", "0"], "--limit"),
    ],
)
def test_the_audit_command_explains_bad_arguments(
    args: list[str], problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STATE_STORE", f"sqlite:///{tmp_path}/state.db")
    assert main(["audit", *args]) == 2
    assert problem in capsys.readouterr().err


def test_since_takes_relative_and_absolute_times() -> None:
    assert parse_since("30m", now=10_000.0) == 10_000.0 - 1800
    assert parse_since("2d", now=200_000.0) == 200_000.0 - 172_800
    assert parse_since("2026-12-01", now=0) == 1_796_083_200.0
    assert parse_since("2026-12-01T10:00:00+01:00", now=0) == 1_796_083_200.0 + 9 * 3600


def test_the_audit_command_escapes_what_could_rewrite_the_terminal() -> None:
    hostile = "\x1b[2J\x1b]0;owned\x07back\rline\nnext\u202eevil"
    event = AuditEvent(
        invocation=Invocation(
            interaction_id="2",
            trace_id="d" * 32,
            command="deploy",
            options={"env": hostile},
            user_id="1",
            user_name=hostile,
            guild_id=None,
            channel_id=None,
            roles=(),
        ),
        at=time.time(),
        outcome="denied",
    )
    line = format_event(event)
    assert not any(ord(c) < 0x20 or c == "\u202e" for c in line)
    assert "\\x1b[2J" in line and "\\x07" in line and "\\x0d" in line and "\\n" in line and "\\u202e" in line


def test_the_audit_command_without_an_aws_region_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_STORE", "dynamodb://orchestrator-state")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    out, err = io.StringIO(), io.StringIO()
    assert run_audit(user_id=None, since="1h", limit=10, as_json=False, out=out, err=err) == 2
    assert err.getvalue() == "audit: no AWS region for the DynamoDB table: set AWS_REGION (e.g. AWS_REGION=eu-west-1)\n"
