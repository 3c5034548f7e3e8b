"""Secrets that got through, one exact example each: found by the property tests of this directory.

Each was a strict xfail (support.known_gap) naming the code at fault until its fix landed (commits
a5026d1, 91af988, 8f03c31); they stay as regression tests. Gaps found later get a `known_gap` test
where the output they concern is tested.
"""

from __future__ import annotations

import io
import time
import types
from collections import UserDict
from pathlib import Path

import httpx
import pytest

from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_errors import GitHubRejected
from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import CommandSpec
from orchestrator.dispatch.explain import explain_rejection
from orchestrator.messages.debug_report import debug_report
from orchestrator.observability.logging import get_logger
from orchestrator.observability.redaction import Redactor, active_redactor, is_secret_key
from orchestrator.observability.setup import install_redactor
from orchestrator.settings import load_settings
from orchestrator.traces.model import Trace, step
from tests.unit.observability.support import assert_no_leak, parse_lines, redactor_installed

BOT_TOKEN = "MTE1MDAwMDAwMDAwMDAwMDAwOQ.GzX1bQ.8fKqW3nV0pLx7RtY2sJd5HcB9mZa4UeTgNoQ"
BOT_HMAC = BOT_TOKEN.rsplit(".", 1)[1]
CREDENTIAL = "q7Vd93kLmZ0xW2rT"  # an opaque bearer credential: no other shape matches it
CONFIGURED = "cfg-Secret-Value-Q8w3E5r7T9y1U2i4o6P8"  # a configured secret without a known shape


# -- the log path: redaction runs on the serialised line --------------------------------------------------


@pytest.mark.parametrize("before", ["\n", "\t", "\r\n"], ids=["newline", "tab", "crlf"])
def test_bot_token_at_the_start_of_a_line_is_redacted_in_log_lines(logs: io.StringIO, before: str) -> None:
    """In a serialised line the newline is `\\n`: its `n` was taken for the start of the token's id part."""
    get_logger().info(f"Discord rejected the token:{before}{BOT_TOKEN}")
    assert_no_leak(logs.getvalue(), [BOT_TOKEN, BOT_HMAC], "log line")


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer\t{CREDENTIAL}",
        f"request headers:\nBearer {CREDENTIAL}",
        f"Authorization:\tBearer {CREDENTIAL}",
    ],
    ids=["tab-after-scheme", "scheme-after-newline", "scheme-after-tab"],
)
def test_authorization_header_around_white_space_is_redacted_in_log_lines(logs: io.StringIO, text: str) -> None:
    """Serialised, a tab is `\\t` and `\\nBearer` has a letter before the scheme: both hid the credential."""
    get_logger().info(text)
    assert_no_leak(logs.getvalue(), [CREDENTIAL, BOT_HMAC], "log line")


def test_a_truncated_private_key_leaves_a_valid_log_line(logs: io.StringIO) -> None:
    """A block without its END line was redacted to the end of the text: the rest of the JSON line with it."""
    get_logger().info("key file starts with -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA", extra={"step": "load"})
    [line] = parse_lines(logs.getvalue())
    assert line["step"] == "load"


@pytest.mark.parametrize(
    "mapping",
    [UserDict({"password": "hunter2-Hunter2"}), types.MappingProxyType({"password": "hunter2-Hunter2"})],
    ids=["UserDict", "MappingProxyType"],
)
def test_any_mapping_gets_the_by_key_layer(logs: io.StringIO, mapping: object) -> None:
    """Only `dict` got the by-key layer; other mappings were written as their str(), password and all."""
    get_logger().info("connecting", extra={"options": mapping})
    assert_no_leak(logs.getvalue(), ["hunter2-Hun"], "log line")


# -- shapes the redactor does not know ----------------------------------------------------------------------


@pytest.mark.parametrize("before", ["-", "_", "x"], ids=["dash", "underscore", "letter"])
def test_bot_token_glued_to_a_word_character_is_redacted(before: str) -> None:
    """The id part was taken to start after the whole [A-Za-z0-9_-] run, so it did not start with M/N/O."""
    assert_no_leak(Redactor().text(f"DISCORD_BOT_TOKEN{before}{BOT_TOKEN}"), [BOT_HMAC], "text")


def test_url_with_a_password_and_no_user_is_redacted() -> None:
    """The url_password shape needed a user name: redis://:PASSWORD@host got through."""
    assert_no_leak(Redactor().text("cache at redis://:s3cret-Passw0rd@cache:6379/0"), ["s3cret-Passw0rd"], "text")


def test_basic_authorization_header_is_redacted() -> None:
    """A short, letters-only Basic credential (base64 of user:pass) was taken for prose."""
    assert_no_leak(Redactor().text("Authorization: Basic dXNlcjpwYXNz"), ["dXNlcjpwYXNz"], "text")


@pytest.mark.parametrize("key", ["signingKey", "accessKey", "encryptionKey", "hmacKey", "AccessKey"])
def test_camel_case_key_names_are_secret(key: str) -> None:
    """With IGNORECASE, `(?<![a-z])key` also refused the K of camelCase names ending in Key."""
    assert is_secret_key(key)
    assert Redactor().value({key: "k3y-Material-Value"}) == {key: "***alue"}


# -- secrets cut before they are redacted ---------------------------------------------------------------------


def test_a_secret_cut_by_the_trace_limit_is_not_stored() -> None:
    """Trace.fail and StepHandle.note cut text to 500 characters: the cut must come after redaction."""
    error = "GitHub said: " + "x" * 470 + " " + CONFIGURED  # the secret straddles character 500
    with redactor_installed(Redactor(secrets=[CONFIGURED])):  # as at start, before any command runs
        trace = Trace("0af7651916cd43dd8448eb211c80319c", "1150000000000000003", "deploy", time.time())
        with step(trace, "dispatch") as dispatching:
            dispatching.fail(error)
        trace.fail(error)
        stored = Trace.from_dict(active_redactor().value(trace.to_dict()))  # as JobWorker._save_trace
        report = debug_report(stored, requested=None)
    assert_no_leak(stored.to_json(), [CONFIGURED[:12]], "stored trace")
    assert_no_leak(report, [CONFIGURED[:12]], "/debug-last")


def test_a_secret_cut_by_the_rejection_explanation_is_not_shown() -> None:
    """explain_rejection keeps 200 characters of GitHub's message: the cut must come after redaction."""
    spec = CommandSpec(name="deploy", description="Deploy", workflow="deploy.yml", ref="main")
    message = "Invalid request.\n\nFor 'properties/note', \"" + "y" * 130 + " " + CONFIGURED + '" is not valid.'
    sent: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.read())
        return httpx.Response(200, json={"id": "1"})

    with (
        redactor_installed(Redactor(secrets=[CONFIGURED])),
        httpx.Client(transport=httpx.MockTransport(answer)) as http,
    ):
        detail = explain_rejection(GitHubRejected(422, message), spec, "acme/ops")
        DiscordClient(http, "https://discord.com/api/v10", "1150000000000000009").edit_original(
            "aW50ZXJhY3Rpb246MTE1", {"embeds": [{"description": detail}]}
        )
    assert "422" in detail
    assert_no_leak(sent[0], [CONFIGURED[:12]], "Discord message edit")


def test_structured_step_notes_keep_the_by_key_layer() -> None:
    """note() turned structures into their str() before redaction: their keys were never seen."""
    trace = Trace("0af7651916cd43dd8448eb211c80319c", "1150000000000000003", "deploy", time.time())
    with step(trace, "call GitHub") as calling:
        calling.note(request={"url": "https://api.github.com/x", "password": "hunter2-Hunter2"})
    stored = Trace.from_dict(Redactor().value(trace.to_dict()))
    assert_no_leak(stored.to_json(), ["hunter2-Hun"], "stored trace")


# -- configured secrets the redactor is never told about ------------------------------------------------------


@pytest.mark.parametrize("name", ["GITHUB_WEBHOOK_SECRET", "BUTTON_SIGNING_SECRET"])
def test_secrets_given_as_plain_values_are_redacted(tmp_path: Path, logs: io.StringIO, name: str) -> None:
    """Lazily read secrets given as plain values (local serve) were never added to the redactor."""
    commands_file = tmp_path / "commands.yaml"
    commands_file.write_text("commands:\n  ping:\n    description: Ping\n    workflow: ping.yml\n", encoding="utf-8")
    env = {
        "DISCORD_PUBLIC_KEY": "ab" * 32,
        "DISCORD_APPLICATION_ID": "1150000000000000009",
        "GITHUB_TOKEN": "ghp_" + "k" * 36,
        "GITHUB_REPOSITORY": "acme/ops",
        "COMMANDS_FILE": str(commands_file),
        "STATE_STORE": "memory://",
        name: CONFIGURED,
    }
    settings = load_settings(env, in_lambda=False)
    install_redactor(settings, load_commands(commands_file))
    get_logger().warning(f"GitHub echoed: {CONFIGURED}")
    assert_no_leak(logs.getvalue(), [CONFIGURED], "log line")
