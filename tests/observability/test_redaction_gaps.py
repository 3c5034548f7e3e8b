"""Secrets that get through today, one exact example each, as strict xfails.

Each test states the behaviour we want; the xfail reason says where the code falls short. When a fix
lands the test passes, strict=True turns that into a failure, and the marker should be removed.
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
from orchestrator.clients.github_api import GitHubRejected
from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import CommandSpec
from orchestrator.dispatch.explain import explain_rejection
from orchestrator.messages.debug_report import debug_report
from orchestrator.observability.logging import get_logger
from orchestrator.observability.redaction import Redactor, active_redactor, is_secret_key
from orchestrator.observability.setup import install_redactor
from orchestrator.settings import load_settings
from orchestrator.traces.model import Trace, step
from tests.observability.support import assert_no_leak, known_gap, parse_lines, redactor_installed

BOT_TOKEN = "MTE1MDAwMDAwMDAwMDAwMDAwOQ.GzX1bQ.8fKqW3nV0pLx7RtY2sJd5HcB9mZa4UeTgNoQ"
BOT_HMAC = BOT_TOKEN.rsplit(".", 1)[1]
CREDENTIAL = "q7Vd93kLmZ0xW2rT"  # an opaque bearer credential: no other shape matches it
CONFIGURED = "cfg-Secret-Value-Q8w3E5r7T9y1U2i4o6P8"  # a configured secret without a known shape


# -- the log path: redaction runs on the serialised line --------------------------------------------------


@pytest.mark.parametrize("before", ["\n", "\t", "\r\n"], ids=["newline", "tab", "crlf"])
@known_gap(
    (
        "redaction.py _redact_bot_tokens walks back from the token's middle over [A-Za-z0-9_-]; in a serialised "
        "log line a newline or tab before the token is the escape `\\n`/`\\t`, so the walk stops on `n`/`t`, "
        "which is not M/N/O, and the whole token is logged verbatim"
    ),
)
def test_bot_token_at_the_start_of_a_line_is_redacted_in_log_lines(logs: io.StringIO, before: str) -> None:
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
@known_gap(
    (
        "redaction.py _redact_authorization: in a serialised log line a tab after the scheme is the two "
        "characters `\\t` (not [ \\t]+), and a scheme right after a newline/tab follows the letter of its escape "
        "(`\\nBearer`), which fails the `not value[at - 1].isalnum()` test"
    ),
)
def test_authorization_header_around_white_space_is_redacted_in_log_lines(logs: io.StringIO, text: str) -> None:
    get_logger().info(text)
    assert_no_leak(logs.getvalue(), [CREDENTIAL, BOT_HMAC], "log line")


@known_gap(
    (
        "redaction.py private_key shape ends at `-----END …-----` or `\\Z`: in a serialised log line a truncated "
        "block runs to the end of the line and takes the closing quote and braces with it, so the line is no "
        "longer JSON (and every field after it is lost)"
    ),
)
def test_a_truncated_private_key_leaves_a_valid_log_line(logs: io.StringIO) -> None:
    get_logger().info("key file starts with -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA", extra={"step": "load"})
    [line] = parse_lines(logs.getvalue())
    assert line["step"] == "load"


@pytest.mark.parametrize(
    "mapping",
    [UserDict({"password": "hunter2-Hunter2"}), types.MappingProxyType({"password": "hunter2-Hunter2"})],
    ids=["UserDict", "MappingProxyType"],
)
@known_gap(
    (
        "redaction.py Redactor.keys_only/value test isinstance(value, dict) (it was Mapping): any other mapping "
        "skips the by-key layer, and the log line's serialiser writes its str(), password and all"
    ),
)
def test_any_mapping_gets_the_by_key_layer(logs: io.StringIO, mapping: object) -> None:
    get_logger().info("connecting", extra={"options": mapping})
    assert_no_leak(logs.getvalue(), ["hunter2-Hun"], "log line")


# -- shapes the redactor does not know ----------------------------------------------------------------------


@pytest.mark.parametrize("before", ["-", "_", "x"], ids=["dash", "underscore", "letter"])
@known_gap(
    (
        "redaction.py _redact_bot_tokens: the id part is taken to start after the last [A-Za-z0-9_-] run, so any "
        "such character glued before the token makes it start with something other than M/N/O: not redacted"
    ),
)
def test_bot_token_glued_to_a_word_character_is_redacted(before: str) -> None:
    assert_no_leak(Redactor().text(f"DISCORD_BOT_TOKEN{before}{BOT_TOKEN}"), [BOT_HMAC], "text")


@known_gap(
    (
        "redaction.py url_password `://([^/\\s:@\"'<>]+):(…)@` needs a user name: Redis-style URLs with only a "
        "password (redis://:PASSWORD@host) are not redacted"
    ),
)
def test_url_with_a_password_and_no_user_is_redacted() -> None:
    assert_no_leak(Redactor().text("cache at redis://:s3cret-Passw0rd@cache:6379/0"), ["s3cret-Passw0rd"], "text")


@known_gap(
    (
        "redaction.py _redact_authorization: a `Basic` credential of fewer than 20 letters only (base64 of "
        "user:pass can be, e.g. dXNlcjpwYXNz) is taken for prose, even right after `Authorization:`"
    ),
)
def test_basic_authorization_header_is_redacted() -> None:
    assert_no_leak(Redactor().text("Authorization: Basic dXNlcjpwYXNz"), ["dXNlcjpwYXNz"], "text")


@pytest.mark.parametrize("key", ["signingKey", "accessKey", "encryptionKey", "hmacKey", "AccessKey"])
@known_gap(
    (
        "redaction.py _SECRET_KEY `(?<![a-z])key(?![a-z])` runs with IGNORECASE, so the lookbehind also rejects "
        "an upper-case K after a letter: camelCase names ending in Key are not masked (apiKey only by its own "
        "alternative)"
    ),
)
def test_camel_case_key_names_are_secret(key: str) -> None:
    assert is_secret_key(key)
    assert Redactor().value({key: "k3y-Material-Value"}) == {key: "***alue"}


# -- secrets cut before they are redacted ---------------------------------------------------------------------


@known_gap(
    (
        "traces/model.py Trace.fail (and StepHandle.note) cut text to 500 characters before the worker's "
        "_save_trace redacts it: a configured secret straddling the cut is stored, and shown by /debug-last, "
        "minus its tail, and the configured-secret layer only knows it whole"
    ),
)
def test_a_secret_cut_by_the_trace_limit_is_not_stored() -> None:
    trace = Trace("0af7651916cd43dd8448eb211c80319c", "1150000000000000003", "deploy", time.time())
    with step(trace, "dispatch") as dispatching:
        dispatching.fail("GitHub said: " + "x" * 470 + " " + CONFIGURED)
    trace.fail("GitHub said: " + "x" * 470 + " " + CONFIGURED)
    with redactor_installed(Redactor(secrets=[CONFIGURED])):
        stored = Trace.from_dict(active_redactor().value(trace.to_dict()))  # as JobWorker._save_trace
        report = debug_report(stored, requested=None)
    assert_no_leak(stored.to_json(), [CONFIGURED[:12]], "stored trace")
    assert_no_leak(report, [CONFIGURED[:12]], "/debug-last")


@known_gap(
    (
        "dispatch/explain.py explain_rejection keeps `message[:200]` of GitHub's answer before the message is "
        "redacted (at the Discord edit): a configured secret that GitHub echoes across character 200 reaches "
        "the user's message without its tail"
    ),
)
def test_a_secret_cut_by_the_rejection_explanation_is_not_shown() -> None:
    spec = CommandSpec(name="deploy", description="Deploy", workflow="deploy.yml", ref="main")
    message = "Invalid request.\n\nFor 'properties/note', \"" + "y" * 130 + " " + CONFIGURED + '" is not valid.'
    detail = explain_rejection(GitHubRejected(422, message), spec, "acme/ops")
    sent: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.read())
        return httpx.Response(200, json={"id": "1"})

    with (
        redactor_installed(Redactor(secrets=[CONFIGURED])),
        httpx.Client(transport=httpx.MockTransport(answer)) as http,
    ):
        DiscordClient(http, "https://discord.com/api/v10", "1150000000000000009").edit_original(
            "aW50ZXJhY3Rpb246MTE1", {"embeds": [{"description": detail}]}
        )
    assert_no_leak(sent[0], [CONFIGURED[:12]], "Discord message edit")


@known_gap(
    (
        "traces/model.py StepHandle.note turns any non-scalar value into str(value) before the trace is "
        "redacted, so a dict's secret-looking keys are never seen by the by-key layer"
    ),
)
def test_structured_step_notes_keep_the_by_key_layer() -> None:
    trace = Trace("0af7651916cd43dd8448eb211c80319c", "1150000000000000003", "deploy", time.time())
    with step(trace, "call GitHub") as calling:
        calling.note(request={"url": "https://api.github.com/x", "password": "hunter2-Hunter2"})
    stored = Trace.from_dict(Redactor().value(trace.to_dict()))
    assert_no_leak(stored.to_json(), ["hunter2-Hun"], "stored trace")


# -- configured secrets the redactor is never told about ------------------------------------------------------


@pytest.mark.parametrize("name", ["GITHUB_WEBHOOK_SECRET", "BUTTON_SIGNING_SECRET"])
@known_gap(
    (
        "settings.py (working tree): Settings.secret_values() no longer includes the lazily read secrets, and "
        "LazySecret.get() only installs a secret into the redactor when it reads it from SSM: given as a plain "
        "value (local serve, tests) it is never redacted"
    ),
)
def test_secrets_given_as_plain_values_are_redacted(tmp_path: Path, logs: io.StringIO, name: str) -> None:
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
