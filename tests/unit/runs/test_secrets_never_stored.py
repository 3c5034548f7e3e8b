"""Generated secrets planted in every outside input of a command's path, end to end through
`serve`: what the user typed, GitHub's refusal of a dispatch and of a re-run, a failed job's log
and annotation, Discord's error answer. None of them reaches any row of the state file (every
table: jobs, idempotency records, traces, audit, queue), nor a log line, nor a Discord message."""

from __future__ import annotations

import io
import secrets
import sqlite3
import string
from pathlib import Path

import pytest

from orchestrator_dev.standins.http_standin import Fault
from tests.unit.runs.conftest import Live, LiveFactory
from tests.unit.runs.test_failure_digest import button, failed_run, press

ALNUM = string.ascii_letters + string.digits


def random_text(length: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def generated_secrets() -> dict[str, str]:
    """One of each shape the redactor knows, freshly made (never a value the tests configured)."""
    return {
        "typed": "ghp_" + random_text(36),
        "refusal": "AKIA" + random_text(16, string.ascii_uppercase + string.digits),
        "log": f"eyJ{random_text(20)}.eyJ{random_text(30)}.{random_text(43)}",  # a JWT
        "annotation": "github_pat_" + random_text(22) + "_" + random_text(59),
        "rerun_refusal": "ghs_" + random_text(36),
        "discord_error": f"MTE{random_text(21)}.{random_text(6)}.{random_text(38)}",  # a bot token's shape
    }


def everything_in(path: Path) -> str:
    """Every row of every table of the SQLite state file, as text."""
    with sqlite3.connect(path) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = [repr(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"')]
    db.close()
    return "\n".join(rows)


@pytest.fixture
def live(live_factory: LiveFactory) -> Live:
    return live_factory()


def test_no_planted_secret_is_stored_logged_or_posted(live: Live, captured_logs: io.StringIO) -> None:
    planted = generated_secrets()
    live.github.failure_output["test"] = (f"Error: token {planted['annotation']}", f"AUTH={planted['log']}")
    live.discord.inject(
        Fault("PATCH", r"/messages/@original$", status=400, body={"message": planted["discord_error"], "code": 50035})
    )
    typed, _ = live.command("diagnose", {"target": f"staging {planted['typed']}"})
    live.settle()
    payload, _ = failed_run(live)
    live.github.inject(Fault("POST", r"/rerun-failed-jobs$", status=403, body={"message": planted["rerun_refusal"]}))
    assert "GitHub refused the re-run (403)" in press(live, button(live.message(payload), "Re-run failed jobs"))
    press(live, button(live.message(payload), "Show log"))
    refusal = {"message": f"Unexpected inputs provided: ['{planted['refusal']}']"}
    live.github.inject(Fault("POST", r"/dispatches$", status=422, body=refusal))
    refused, _ = live.command("diagnose", {"target": "staging"})
    live.settle()

    # Every place was reached: the planted texts were all seen by the bot.
    assert live.github.pending_faults == [] and live.discord.pending_faults == []
    assert live.record(typed).invocation.options and live.record(refused).status == "rejected"
    assert live.record(payload).failure is not None
    stored = everything_in(Path(live.env["STATE_STORE"].removeprefix("sqlite:///")))
    posted = "\n".join(repr(r.json) for r in live.discord.requests)
    logged = captured_logs.getvalue()
    assert "[redacted:" in stored and "[redacted:" in posted
    for where, secret in planted.items():
        assert secret not in stored, f"the {where} secret is in the state file"
        assert secret not in logged, f"the {where} secret is in a log line"
        assert secret not in posted, f"the {where} secret was posted to Discord"
