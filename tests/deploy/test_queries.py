"""The saved Logs Insights queries: one definition, equal in the template and docs/observability.md, reading
only fields that real log lines carry."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from orchestrator.alerts.model import Alert
from orchestrator.alerts.ops_post import logs_insights_url
from orchestrator.commands.invocation import Invocation
from orchestrator.commands.model import CommandSet
from orchestrator.failures.digest import FailureDigest
from orchestrator.interactions.endpoint import InteractionsEndpoint
from orchestrator.interactions.signature import SignatureVerifier
from orchestrator.observability.queries import SAVED_QUERIES, TRACE_ID_PLACEHOLDER, readme_section, trace_query
from orchestrator.runs.follower import log_run_failure
from orchestrator.state.jobs import JobRecord
from orchestrator.state.memory import MemoryAlertStore
from orchestrator.web.http import HttpRequest
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.http_standin import Fault
from orchestrator_dev.standins.signing import InteractionSigner
from tests.conftest import REPO_ROOT, RecordingQueue
from tests.fixtures.alerts import AlerterFactory

# Logs Insights' own words in our queries: commands, operators, functions, sort orders.
INSIGHTS_WORDS = {"fields", "filter", "stats", "sort", "limit", "display", "by", "as", "asc", "desc", "in", "like"}
INSIGHTS_WORDS |= {"and", "or", "not", "count", "count_distinct", "bin", "ispresent", "latest"}
COMMANDS = {"fields", "filter", "stats", "sort", "limit", "display"}
LOG_GROUP_OF = {"interactions": "InteractionsLogGroup", "worker": "WorkerLogGroup", "alarms": "AlarmLogGroup"}


def fields_read(query: str) -> set[str]:
    """The log fields a query names: its words, less quoted text, Insights' words, @-fields and aliases."""
    unquoted = re.sub(r"'[^']*'", "''", query)
    words = set(re.findall(r"(?<![\w@.])[A-Za-z_][\w.]*", unquoted))
    aliases = set(re.findall(r"\bas\s+(\w+)", unquoted))
    return words - INSIGHTS_WORDS - aliases


@pytest.fixture
def real_log_lines(
    signer: InteractionSigner,
    commands: CommandSet,
    queue: RecordingQueue,
    make_alerter: AlerterFactory,
    discord: FakeDiscord,
    captured_logs: io.StringIO,
) -> list[dict[str, Any]]:
    """Lines the real code writes through the real formatter: accepted, denied, invalid and
    malformed commands, alerts sent, suppressed and failed, and a failed run."""
    endpoint = InteractionsEndpoint(SignatureVerifier(signer.public_key_hex), commands, queue)

    def post(body: bytes) -> None:
        headers = {k.lower(): v for k, v in signer.headers(body).items()}
        endpoint.handle(HttpRequest("POST", "/interactions", headers, body))

    post(signer.encode(signer.application_command("diagnose", {"target": "staging"})))
    post(signer.encode(signer.application_command("deploy")))  # not on its allow list
    post(signer.encode(signer.application_command("diagnose", {"target": "moon"})))
    post(b'{"type": 2}')
    alerter = make_alerter(MemoryAlertStore())
    alert = Alert("error", "dispatch", "GitHub refused the dispatch", "422", trace_id="a" * 32, command="deploy")
    alerter.raise_alert(alert)
    alerter.raise_alert(alert)
    discord.inject(Fault(method="POST", path=r"/api/v10/channels/[0-9]+/messages$", status=500))
    make_alerter(MemoryAlertStore()).raise_alert(alert)
    digest = FailureDigest(1, "failure", (), 0, None, "0123456789abcdef")
    failed = JobRecord(
        invocation=Invocation(
            options={},
            interaction_id="1",
            trace_id="b" * 32,
            command="diagnose",
            user_id="10",
            user_name="Alice",
            guild_id=None,
            channel_id=None,
        ),
        run_id=5,
        status="dispatched",
        created_at=0.0,
        updated_at=0.0,
    )
    failed.conclusion, failed.failure = "failure", digest.to_dict()
    log_run_failure(failed)
    return [json.loads(line) for line in captured_logs.getvalue().splitlines()]


def test_every_field_a_query_reads_is_in_real_log_lines(real_log_lines: list[dict[str, Any]]) -> None:
    seen = {key for line in real_log_lines for key in line}
    outcomes = {line.get("outcome") for line in real_log_lines}
    messages = {line["msg"] for line in real_log_lines}
    assert {"accepted", "denied", "invalid"} <= outcomes
    assert {"alert sent", "alert suppressed", "alert not posted", "run failed"} <= messages
    for query in SAVED_QUERIES:
        assert fields_read(query.text) <= seen, (query.name, fields_read(query.text) - seen)


def test_queries_are_pipelines_of_insights_commands() -> None:
    names = [query.name for query in SAVED_QUERIES]
    assert len(set(names)) == len(names)
    for query in SAVED_QUERIES:
        for stage in query.text.split("\n| "):
            assert stage.split()[0] in COMMANDS, (query.name, stage)
        assert query.text.count("'") % 2 == 0, query.name
        assert set(query.functions) <= set(LOG_GROUP_OF), query.name


def test_the_template_saves_exactly_these_queries() -> None:
    resources = yaml_parse((REPO_ROOT / "template.yaml").read_text(encoding="utf-8"))["Resources"]
    saved = {
        r["Properties"]["Name"]["Fn::Sub"].removeprefix("${AWS::StackName}/"): r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Logs::QueryDefinition"
    }
    assert sorted(saved) == sorted(query.name for query in SAVED_QUERIES)
    for query in SAVED_QUERIES:
        assert saved[query.name]["QueryString"] == query.text, query.name
        groups = [group["Ref"] for group in saved[query.name]["LogGroupNames"]]
        assert groups == [LOG_GROUP_OF[function] for function in query.functions], query.name


def test_the_docs_write_out_exactly_these_queries() -> None:
    readme = (REPO_ROOT / "docs" / "observability.md").read_text(encoding="utf-8")
    start, end = "<!-- saved queries: start -->\n", "<!-- saved queries: end -->"
    assert readme[readme.index(start) + len(start) : readme.index(end)].strip() == readme_section().strip()


def test_the_alert_link_carries_the_saved_trace_query() -> None:
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    assert TRACE_ID_PLACEHOLDER not in trace_query(trace_id) and trace_id in trace_query(trace_id)
    url = logs_insights_url("eu-west-1", "/aws/lambda/bot-worker", trace_id)
    assert url is not None and trace_id in url
    # Anything but a trace id would land inside the query's quotes: no link rather than a broken query.
    assert logs_insights_url("eu-west-1", "/aws/lambda/bot-worker", "x' or 1=1") is None
    with pytest.raises(ValueError, match="hex"):
        trace_query("' | filter 1")
