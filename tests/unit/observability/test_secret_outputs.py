"""Property tests: a secret of any known shape, anywhere in any structure, never leaves through any output.

The outputs: (a) log lines, (b) stored traces and the /debug-last report, (c) ephemeral replies,
(d) Discord message edits as sent on the wire, (e) settings errors.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.clients.discord_api import DiscordClient
from orchestrator.commands.model import OptionValue
from orchestrator.discord.wire import EPHEMERAL, ResponseType
from orchestrator.interactions import responses
from orchestrator.messages import limits
from orchestrator.messages.debug_report import debug_report
from orchestrator.messages.job_messages import option_fields
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.observability.redaction import Redactor, active_redactor
from orchestrator.settings import SECRETS, SettingsError, load_settings
from orchestrator.traces.model import Trace, step
from orchestrator_dev.standins.signing import interaction_token
from tests.fixtures.logs import capture_logs
from tests.unit.observability.strategies import (
    B64TOKEN,
    BUILT_IN_SHAPES,
    CONFIGURED_SECRET_ALPHABET,
    OPERATOR_PATTERNS,
    SECRET_KINDS,
    Secret,
    nested,
    neutral,
    sentences,
)
from tests.unit.observability.support import (
    PER_KIND,
    PROPERTY,
    assert_no_leak,
    parse_lines,
    redactor_installed,
)

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
USER_ID = "1150000000000000003"
APPLICATION_ID = "1150000000000000009"
# Settings a deployment would also have: the redactor always knows a few configured secrets.
DECOY_SECRETS = ("decoy-webhook-secret-0x1f", "ghp_DecoyDecoyDecoyDecoyDecoyDecoyDeco")


def redactor_for(secret: Secret) -> Redactor:
    patterns = {name: re.compile(source) for name, source in OPERATOR_PATTERNS.items()}
    return Redactor(secrets=(*DECOY_SECRETS, *secret.configured), extra_patterns=patterns)


# -- (a) log lines ------------------------------------------------------------------------------------


def emit_log_lines(redactor: Redactor, message: str, leaf: str, structure: Any) -> str:
    with redactor_installed(redactor), capture_logs() as stream:
        log = get_logger()
        with log_context(trace_id=TRACE_ID, user_id=USER_ID, cmd="deploy"):
            log.info(message)
            log.warning("GitHub answered: %s", message)
            log.info("event", extra={"payload": structure, "api_token": message, "note": message})
            try:
                raise RuntimeError(message)
            except RuntimeError:
                log.exception("dispatch failed")
            log.debug("nested", extra={"response": {"headers": {"Authorization": message}, "body": [leaf, (leaf,)]}})
    return stream.getvalue()


@pytest.mark.parametrize("kind", sorted(SECRET_KINDS))
@PER_KIND
@given(data=st.data())
def test_log_lines_never_carry_a_secret(kind: str, data: st.DataObject) -> None:
    secret = data.draw(SECRET_KINDS[kind], label="secret")
    message = data.draw(sentences(secret), label="message")
    leaf = data.draw(sentences(secret), label="leaf")
    structure = data.draw(nested(leaf, secret.needles), label="structure")
    masked_needles = (message[:-4],) if len(message) > 8 else ()

    text = emit_log_lines(redactor_for(secret), message, leaf, structure.value)
    plain_message, plain_leaf, plain_structure = neutral((message, leaf, structure.value), secret)
    baseline = emit_log_lines(redactor_for(secret), plain_message, plain_leaf, plain_structure)
    assert len(parse_lines(text)) == 5
    assert_no_leak(text, (*secret.needles, *structure.needles, *masked_needles), "log lines", baseline=baseline)


def test_a_truncated_private_key_in_quotes_keeps_the_log_line_json(logs: Any) -> None:
    """Found by these tests: the truncated-block pattern took the backslash of a JSON-escaped quote and
    left the quote bare, ending the JSON string early."""
    get_logger().info(
        'cannot load "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA" from disk', extra={"step": "load"}
    )
    [line] = parse_lines(logs.getvalue())
    assert line["step"] == "load" and "MIIEpAIBAAKCAQEA" not in line["msg"]


@pytest.mark.parametrize("secret", ['"Quoted-Start-9f3k', "\\Backslash-Start-9f3k", "Backslash-End-9f3k\\"])
def test_configured_secrets_with_quotes_keep_log_lines_json(logs: Any, secret: str) -> None:
    """Found by these tests: the raw form was replaced inside the JSON-escaped one, leaving a stray backslash."""
    with redactor_installed(Redactor(secrets=[secret])):
        get_logger().info(f"secret is {secret}", extra={"step": "load"})
    [line] = parse_lines(logs.getvalue())
    assert line["step"] == "load" and secret not in line["msg"]


def test_log_lines_stay_json_after_redaction(logs: Any) -> None:
    """Redaction rewrites the serialised line: each rewrite must leave valid JSON (one complete shape of each kind)."""
    samples = [
        "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB",
        "https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnopqrstuvwxyz",
        "ghp_" + "a1B2c3D4e5" * 4,
        "AKIAABCDEFGHIJKLMNOP",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        'postgres://app:"quoted"@db/x',
        "Authorization: Bearer abc.def-ghi_jkl",
        "xoxb-1234567890-abcdefghij",
    ]
    log = get_logger()
    for sample in samples:
        log.info(f"before {sample} after", extra={"copy": sample})
    lines = parse_lines(logs.getvalue())
    assert len(lines) == len(samples)
    for line in lines:
        assert line["msg"].startswith("before ") and line["msg"].endswith(" after")


# -- (b) traces and /debug-last ------------------------------------------------------------------------


def store_and_report(redactor: Redactor, error: str, detail: str, structure: Any, run_url: str | None) -> Trace:
    with redactor_installed(redactor):  # installed at start, as in the worker
        trace = Trace(TRACE_ID, USER_ID, "deploy", time.time() - 5)
        with step(trace, "verify signature"):
            pass
        with step(trace, "dispatch", workflow="deploy.yml") as dispatching:
            dispatching.note(reason=detail, response=structure)
            dispatching.fail(error)
        trace.fail(error)
        trace.run_url = run_url
        raw = trace.to_dict()
        # Structures straight into the details too, as a stored trace from an older version could hold them.
        raw["steps"][1]["details"]["raw_response"] = structure
        raw["steps"][1]["details"]["headers"] = {"authorization": detail, "x-request-id": "8d1c0b4e"}
        raw["steps"][1]["details"]["history"] = [(detail, {"token": detail})]
        # What JobWorker._save_trace stores.
        return Trace.from_dict(active_redactor().value(raw))


@pytest.mark.parametrize("kind", sorted(SECRET_KINDS))
@PER_KIND
@given(data=st.data())
def test_stored_traces_and_debug_report_never_carry_a_secret(kind: str, data: st.DataObject) -> None:
    secret = data.draw(SECRET_KINDS[kind], label="secret")
    error = data.draw(sentences(secret), label="error")
    detail = data.draw(sentences(secret), label="detail")
    structure = data.draw(nested(detail, secret.needles), label="structure")
    run_url = data.draw(st.sampled_from((None, "https://github.com/acme/ops/actions/runs/16000000001")))

    stored = store_and_report(redactor_for(secret), error, detail, structure.value, run_url)
    with redactor_installed(redactor_for(secret)):
        report = debug_report(stored, requested=None)  # what /debug-last later shows from it
    plain_error, plain_detail, plain_structure = neutral((error, detail, structure.value), secret)
    baseline = store_and_report(redactor_for(secret), plain_error, plain_detail, plain_structure, run_url)
    with redactor_installed(redactor_for(secret)):
        baseline_report = debug_report(baseline, requested=None)

    needles = (*secret.needles, *structure.needles)
    assert_no_leak(stored.to_json(), needles, "stored trace", baseline=baseline.to_json())
    assert_no_leak(report, needles, "/debug-last report", baseline=baseline_report)
    assert report.startswith("**/deploy**") and TRACE_ID in report  # the report itself is intact


# -- (c) ephemeral replies -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SECRET_KINDS))
@PER_KIND
@given(data=st.data())
def test_ephemeral_replies_never_carry_a_secret(kind: str, data: st.DataObject) -> None:
    secret = data.draw(SECRET_KINDS[kind], label="secret")
    text = data.draw(sentences(secret), label="text")
    with redactor_installed(redactor_for(secret)):
        reply = responses.ephemeral_message(f"/deploy was not run: {text}. Please try again.")
        baseline = responses.ephemeral_message(f"/deploy was not run: {neutral(text, secret)}. Please try again.")
    assert reply["type"] == ResponseType.CHANNEL_MESSAGE_WITH_SOURCE
    assert reply["data"]["flags"] == EPHEMERAL
    assert len(reply["data"]["content"]) <= limits.CONTENT
    assert_no_leak(json.dumps(reply), secret.needles, "ephemeral reply", baseline=json.dumps(baseline))


# -- (d) Discord message edits -----------------------------------------------------------------------------


class CapturingTransport(httpx.MockTransport):
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return httpx.Response(200, json={"id": "1", "content": ""})


def sent_edit(redactor: Redactor, texts: list[str], structure: Any) -> str:
    message: dict[str, Any] = {
        "content": texts[0],
        "embeds": [
            {
                "title": "/deploy · not started",
                "description": texts[1],
                "fields": [{"name": "note", "value": texts[2], "inline": True}, {"name": "token", "value": texts[2]}],
                "footer": {"text": "trace 0af76519"},
            }
        ],
        "allowed_mentions": {"parse": []},
        "attachments": (structure,),
    }
    transport = CapturingTransport()
    token = interaction_token("1150000000000000001")
    with redactor_installed(redactor), httpx.Client(transport=transport) as http:
        DiscordClient(http, "https://discord.com/api/v10", APPLICATION_ID).edit_original(token, message)
    [request] = transport.requests
    assert request.method == "PATCH" and request.url.path.endswith("/messages/@original")
    return request.content.decode()


@pytest.mark.parametrize("kind", sorted(SECRET_KINDS))
@PER_KIND
@given(data=st.data())
def test_discord_message_edits_never_carry_a_secret(kind: str, data: st.DataObject) -> None:
    secret = data.draw(SECRET_KINDS[kind], label="secret")
    texts = [data.draw(sentences(secret), label=f"text{i}") for i in range(4)]
    structure = data.draw(nested(texts[3], secret.needles), label="structure")

    body = sent_edit(redactor_for(secret), texts, structure.value)
    plain_texts, plain_structure = neutral((texts, structure.value), secret)
    baseline = sent_edit(redactor_for(secret), plain_texts, plain_structure)
    assert_no_leak(body, (*secret.needles, *structure.needles), "Discord message edit", baseline=baseline)
    sent = json.loads(body)
    assert sent["embeds"][0]["title"] == "/deploy · not started"
    assert sent["allowed_mentions"] == {"parse": []}


# -- (e) settings errors ----------------------------------------------------------------------------------------

PUBLIC_KEY = "ab" * 32


def base_env(commands_file: Path) -> dict[str, str]:
    return {
        "DISCORD_PUBLIC_KEY": PUBLIC_KEY,
        "DISCORD_APPLICATION_ID": APPLICATION_ID,
        "GITHUB_TOKEN": "ghp_" + "k" * 36,
        "GITHUB_REPOSITORY": "acme/ops",
        "COMMANDS_FILE": str(commands_file),
        "STATE_STORE": "memory://",
    }


def settings_error(env: dict[str, str]) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        load_settings(env, in_lambda=False)
    return caught.value


def error_texts(error: SettingsError) -> list[str]:
    return [str(error), repr(error), *error.problems, *(str(arg) for arg in error.args)]


secret_values = st.one_of(
    *(shape.map(lambda s: s.text) for name, shape in BUILT_IN_SHAPES.items() if name != "private_key"),
    st.text(alphabet=CONFIGURED_SECRET_ALPHABET, min_size=12, max_size=60),
).filter(lambda s: not any(c.isspace() for c in s) and len(s) >= 12)


@PROPERTY
@given(
    # The secrets load_settings checks for white space (read at start, not on first use).
    name=st.sampled_from([setting.name for setting in SECRETS if not setting.read_on_use]),
    value=secret_values,
    cut=st.floats(0.2, 0.8),
    space=st.sampled_from((" ", "\t", "\n", "  ", "\u00a0")),
    broken=st.sets(st.sampled_from(("DISCORD_PUBLIC_KEY", "DISCORD_APPLICATION_ID", "ENABLE_ALERTS")), max_size=3),
)
def test_settings_errors_never_echo_a_malformed_secret(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    value: str,
    cut: float,
    space: str,
    broken: set[str],
) -> None:
    commands_file = tmp_path_factory.getbasetemp() / "commands.yaml"
    commands_file.touch()
    at = max(6, int(len(value) * cut))
    malformed = value[:at] + space + value[at:]
    env = base_env(commands_file) | {name: malformed} | {key: "not valid" for key in broken}
    error = settings_error(env)
    baseline = settings_error(env | {name: "Placeholder Text"})
    assert any(problem.startswith(f"{name}: contains white space") for problem in error.problems)
    needles = [value[:at], value[at:]] if len(value) - at >= 6 else [value[:at]]
    for text, plain in zip(error_texts(error), error_texts(baseline), strict=True):
        assert_no_leak(text, needles, "SettingsError", baseline=plain)


# Unencoded, a '/' would end the URL's authority: the rest would be a path, not credentials.
url_credentials = st.tuples(
    st.text(alphabet=B64TOKEN.replace("/", ""), min_size=1, max_size=12),
    st.text(alphabet=B64TOKEN.replace("/", "") + "!$&*+,;=", min_size=10, max_size=40),
)


@PROPERTY
@given(name=st.sampled_from(("DISCORD_API_URL", "GITHUB_API_URL")), credentials=url_credentials)
def test_settings_errors_never_echo_url_credentials(
    tmp_path_factory: pytest.TempPathFactory, name: str, credentials: tuple[str, str]
) -> None:
    commands_file = tmp_path_factory.getbasetemp() / "commands.yaml"
    commands_file.touch()
    user, password = credentials
    env = base_env(commands_file) | {name: f"https://{user}:{password}@api.example.com/v10"}
    error = settings_error(env)
    baseline = settings_error(base_env(commands_file) | {name: f"https://{user}:Placeholder@api.example.com/v10"})
    assert any(problem.startswith(f"{name}: must not contain credentials") for problem in error.problems)
    for text, plain in zip(error_texts(error), error_texts(baseline), strict=True):
        assert_no_leak(text, [password], "SettingsError", baseline=plain)


GITHUB_PAT = "ghp_R8sT2vX4zB6dF8hK0mP3qS5uW7yA9cE1gI3k"
BOT_TOKEN = "MTE1MDAwMDAwMDAwMDAwMDAwOQ.GzX1bQ.8fKqW3nV0pLx7RtY2sJd5HcB9mZa4UeTgNoQ"
# A GitHub token no shape matches (the old `v1.` + 40 hex form), and a webhook secret: known only as settings.
SHAPELESS_TOKEN = "v1.4f9c2a7e1b3d5f8a0c6e2b4d7f9a1c3e5b8d0f2a"
WEBHOOK_SECRET = "whsec-Plain-Value-7c1e9a44b2"


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        pytest.param(
            "GITHUB_REPOSITORY",
            f"https://x-access-token:{GITHUB_PAT}@github.com/acme/ops.git",
            GITHUB_PAT,
            id="repository-as-clone-url",
        ),
        pytest.param(
            "STATE_STORE",
            "postgres://orchestrator:Pg-Passw0rd-4-prod!@db.internal/state",
            "Pg-Passw0rd-4-prod!",
            id="state-store-url",
        ),
        pytest.param("ENABLE_DEBUG_CMD", GITHUB_PAT, GITHUB_PAT.lower(), id="flag"),
        pytest.param("POLL_LIMIT", GITHUB_PAT, GITHUB_PAT, id="number"),
    ],
)
def test_settings_errors_never_echo_a_secret_pasted_into_another_setting(
    tmp_path: Path, name: str, value: str, secret: str
) -> None:
    """Settings that quote their value in the problem: a secret pasted there is redacted by its shape."""
    commands_file = tmp_path / "commands.yaml"
    commands_file.touch()
    error = settings_error(base_env(commands_file) | {name: value})
    assert any(problem.startswith(f"{name}: ") for problem in error.problems)
    for text in error_texts(error):
        assert_no_leak(text, [secret], "SettingsError")


@pytest.mark.parametrize(
    ("env", "secret"),
    [
        pytest.param({"ENABLE_DEBUG_CMD": BOT_TOKEN}, BOT_TOKEN.lower(), id="flag-lowercases-a-bot-token"),
        pytest.param(
            {"ENABLE_ALERTS": "AKIAQX7ZK2MB4VN8RT3W"}, "akiaqx7zk2mb4vn8rt3w", id="flag-lowercases-an-aws-key"
        ),
        pytest.param(
            {"GITHUB_TOKEN": SHAPELESS_TOKEN, "GITHUB_REPOSITORY": SHAPELESS_TOKEN},
            SHAPELESS_TOKEN,
            id="token-pasted-as-repository",
        ),
        pytest.param(
            {"GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET, "GITHUB_REPOSITORY": WEBHOOK_SECRET},
            WEBHOOK_SECRET,
            id="webhook-secret-pasted-as-repository",
        ),
    ],
)
def test_settings_errors_never_echo_a_configured_or_lowercased_secret(
    tmp_path: Path, env: dict[str, str], secret: str
) -> None:
    """Found by these tests: problems were redacted without the secret settings being read, and flags
    quoted their value lower-cased, which case-sensitive shapes no longer match."""
    commands_file = tmp_path / "commands.yaml"
    commands_file.touch()
    error = settings_error(base_env(commands_file) | env)
    for text in error_texts(error):
        assert_no_leak(text, [secret], "SettingsError")


def test_option_values_are_redacted_before_they_are_clipped() -> None:
    """Found by these tests: option values were clipped to the field size before the message was redacted."""
    secret = "cfg-Secret-Value-Q8w3E5r7T9y1U2i4o6P8"
    options: dict[str, OptionValue] = {"note": "x" * 1010 + " " + secret + " and more"}
    embed: dict[str, Any] = {
        "title": "/deploy · started",
        "description": "queued",
        "footer": {"text": "trace 0af76519"},
    }
    transport = CapturingTransport()
    with redactor_installed(Redactor(secrets=[secret])), httpx.Client(transport=transport) as http:
        embed["fields"] = option_fields(options, embed)
        DiscordClient(http, "https://discord.com/api/v10", APPLICATION_ID).edit_original(
            interaction_token("1150000000000000001"), {"embeds": [embed]}
        )
    [request] = transport.requests
    assert_no_leak(request.content.decode(), [secret[:12]], "Discord message edit")
