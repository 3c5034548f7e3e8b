"""The alert as a Discord message: valid for Discord's API, within limits, redacted, with a place to start."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.alerts.alerter import THROTTLED
from orchestrator.alerts.model import Alert
from orchestrator.alerts.ops_post import alert_message
from orchestrator.observability import redaction
from orchestrator.observability.redaction import Redactor
from orchestrator.state.memory import MemoryAlertStore
from orchestrator_dev.standins.fake_discord import form_errors
from tests.contract.openapi import discord_contract
from tests.fixtures.alerts import AlerterFactory, Clock

MESSAGES_PATH = "/api/v10/channels/123456789012345678/messages"
GHP_TOKEN = "ghp_" + "Zq7xK2mR9vT4wY8nB3cF6hJ1pL5sD0gA2eU7"
CONFIGURED_SECRET = "s3cr3t-configured-value-for-alerts"


def validate(body: dict[str, Any]) -> None:
    discord_contract().validate_request("POST", MESSAGES_PATH, body=body)
    assert form_errors(body) == {}
    embed = body["embeds"][0]
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6000


SAMPLES = [
    Alert("critical", "worker", "Job failed on its last attempt (KeyError)", "DLQ", trace_id=uuid.uuid4().hex),
    Alert("error", "dispatch", "GitHub cannot find the workflow (404): x.yml", "Not Found", command="ghost"),
    Alert("warning", "alarm:errors", "Errors above threshold", "", user_name="alice"),
    Alert(
        "resolved",
        "run",
        "/deploy run concluded success",
        "ok",
        trace_id="abc",
        run_url="https://github.com/acme/ops/actions/runs/1",
        links=(("Dashboard", "https://console.aws.amazon.com/x"), ("bad", "http://insecure"), ("x" * 200, "")),
    ),
    THROTTLED,
]


@pytest.mark.parametrize("alert", SAMPLES, ids=lambda a: a.severity + ":" + a.source)
def test_every_message_is_valid_for_discord(alert: Alert) -> None:
    validate(alert_message(alert))
    validate(alert_message(alert, suppressed=12, since=1_699_999_980.0, insights="https://eu-west-1.console.aws"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(min_size=1, max_size=5000),
    cause=st.text(max_size=12000),
    command=st.from_regex(r"[a-z][a-z0-9_-]{0,31}", fullmatch=True),
    user=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Z", "C")), min_size=1, max_size=64),
    suppressed=st.integers(min_value=0, max_value=10**9),
)
def test_huge_titles_and_causes_stay_within_limits(
    title: str, cause: str, command: str, user: str, suppressed: int
) -> None:
    alert = Alert("error", "dispatch", title, cause, trace_id=uuid.uuid4().hex, command=command, user_name=user)
    message = alert_message(alert, suppressed=suppressed, since=1_699_999_980.0)
    validate(message)
    embed = message["embeds"][0]
    assert len(embed["title"]) <= 256
    assert len(embed["description"]) <= 4096


@pytest.fixture
def configured_secret() -> Iterator[str]:
    previous = redaction.active_redactor()
    redaction.install(Redactor(secrets=[CONFIGURED_SECRET]))
    try:
        yield CONFIGURED_SECRET
    finally:
        redaction.install(previous)


def test_secrets_never_appear(configured_secret: str, make_alerter: AlerterFactory) -> None:
    alert = Alert(
        "critical",
        "dispatch",
        f"Token {GHP_TOKEN} and {configured_secret} leaked",
        f"GitHub said: bad credentials for {GHP_TOKEN}; secret={configured_secret}\n" + "x " * 3000 + GHP_TOKEN,
        trace_id=uuid.uuid4().hex,
        user_name=f"mallory {configured_secret}",
    )
    message = alert_message(alert)
    assert make_alerter(MemoryAlertStore()).raise_alert(alert)
    [posted] = make_alerter.posts()
    requests = make_alerter.discord.requests_to("POST")
    for text in (repr(message), repr(posted), *(r.body.decode() for r in requests)):
        assert GHP_TOKEN not in text
        assert configured_secret not in text
        assert "ghp_Zq7x" not in text


def test_trace_fingerprint_and_logs_insights_link(
    monkeypatch: pytest.MonkeyPatch, make_alerter: AlerterFactory, clock: Clock
) -> None:
    trace_id = uuid.uuid4().hex
    alert = Alert("error", "dispatch", "GitHub refused the dispatch (422): nightly.yml", "no", trace_id=trace_id)
    alerter = make_alerter(MemoryAlertStore())

    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_LOG_GROUP_NAME", raising=False)
    assert alerter.raise_alert(alert)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/orchestrator-worker")
    clock.advance(301)
    assert alerter.raise_alert(alert)

    without, with_link = (post["embeds"][0] for post in make_alerter.posts())
    for embed in (without, with_link):
        [trace] = [f for f in embed["fields"] if f["name"] == "trace"]
        assert trace["value"] == f"`{trace_id[:8]}`"
    assert "Logs for this trace" not in without["description"]
    assert "Logs for this trace" in with_link["description"]
    link = with_link["description"].split("](", 1)[1]
    assert link.startswith("https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:")
    assert trace_id in link
    assert "/aws/lambda/orchestrator-worker" in unquote(link.replace("*", "%"))


def test_unknown_trace_shown_as_unknown() -> None:
    [field] = [f for f in alert_message(THROTTLED)["embeds"][0]["fields"] if f["name"] == "trace"]
    assert field["value"] == "`unknown`"
