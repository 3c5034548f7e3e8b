"""The Lambda handlers as AWS invokes them: function URL events and SQS batches, AWS mocked by moto."""

from __future__ import annotations

import base64
import importlib
import json
import sys
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws

from orchestrator.adapters import priming, secrets
from orchestrator.adapters.ack_clients import ACK_QUEUE_CONFIG, ACK_STATE_CONFIG
from orchestrator.commands.invocation import Invocation
from orchestrator.jobs.envelopes import Job
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub, FakeWorkflow
from orchestrator_dev.standins.signing import InteractionSigner
from tests.conftest import REPO_ROOT
from tests.unit.adapters.test_snapstart import FakeRuntime

REGION = "us-east-1"
TABLE = "orchestrator-state"
GITHUB_TOKEN = "ghp_" + "L" * 36


class FakeLambdaContext(LambdaContext):
    def __init__(self) -> None:
        self._function_name = "orchestrator-test"
        self._memory_limit_in_mb = 512
        self._invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:orchestrator-test"
        self._aws_request_id = "5d1f7a0e-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return 30_000


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": "orchestrator-test",
        "COMMANDS_FILE": str(REPO_ROOT / "commands.yaml"),
        "BUTTON_SIGNING_SECRET": "test-signing-secret-0123456789",
    }.items():
        monkeypatch.setenv(name, value)
    # Powertools caches parameters per name for their max_age; each test has its own secrets.
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws():
        yield


def function_url_event(body: bytes, headers: dict[str, str], *, base64_body: bool) -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": "/interactions",
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {"http": {"method": "POST", "path": "/interactions"}},
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
        "isBase64Encoded": base64_body,
    }


def load_interactions_module(monkeypatch: pytest.MonkeyPatch, signer: InteractionSigner) -> tuple[ModuleType, str]:
    # As template.yaml sets it: the public key resolved at deploy time, no SSM call at run time.
    queue_url = boto3.client("sqs").create_queue(QueueName="work")["QueueUrl"]
    monkeypatch.setenv("WORK_QUEUE_URL", queue_url)
    monkeypatch.setenv("DISCORD_APPLICATION_ID", signer.application_id)
    monkeypatch.setenv("DISCORD_PUBLIC_KEY", signer.public_key_hex)
    import orchestrator.adapters.lambda_interactions as module

    return importlib.reload(module), queue_url


@pytest.mark.parametrize("base64_body", [True, False])
def test_interactions_function_url(
    aws: None, monkeypatch: pytest.MonkeyPatch, signer: InteractionSigner, base64_body: bool
) -> None:
    module, queue_url = load_interactions_module(monkeypatch, signer)
    payload = signer.application_command("diagnose", {"target": "staging"})
    body = signer.encode(payload)
    result = module.handler(
        function_url_event(body, signer.headers(body), base64_body=base64_body), FakeLambdaContext()
    )
    assert result["statusCode"] == 200 and json.loads(result["body"]) == {"type": 5, "data": {"flags": 0}}
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert Job.from_message(messages[0]["Body"]).invocation.interaction_id == payload["id"]

    ping = signer.encode(signer.ping())
    result = module.handler(
        function_url_event(ping, signer.headers(ping), base64_body=base64_body), FakeLambdaContext()
    )
    assert result == {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": '{"type":1}',
        "isBase64Encoded": False,
    }


def test_interactions_function_rejects_bad_base64_and_signatures(
    aws: None, monkeypatch: pytest.MonkeyPatch, signer: InteractionSigner
) -> None:
    module, _ = load_interactions_module(monkeypatch, signer)
    event = function_url_event(b"{}", signer.headers(b"{}"), base64_body=True) | {"body": "%%%not base64"}
    assert module.handler(event, FakeLambdaContext())["statusCode"] == 400
    event = function_url_event(b"{}", signer.headers(b"other"), base64_body=True)
    assert module.handler(event, FakeLambdaContext())["statusCode"] == 401


def test_queue_outage_gets_an_ephemeral_answer(
    aws: None, monkeypatch: pytest.MonkeyPatch, signer: InteractionSigner
) -> None:
    module, queue_url = load_interactions_module(monkeypatch, signer)
    boto3.client("sqs").delete_queue(QueueUrl=queue_url)
    body = signer.encode(signer.application_command("diagnose", {"target": "staging"}))
    result = module.handler(function_url_event(body, signer.headers(body), base64_body=True), FakeLambdaContext())
    answer = json.loads(result["body"])
    assert result["statusCode"] == 200 and answer["type"] == 4 and answer["data"]["flags"] == 64


def test_nothing_is_registered_on_an_ack_client_after_it_is_primed(
    aws: None, monkeypatch: pytest.MonkeyPatch, signer: InteractionSigner
) -> None:
    """A handler registered after priming empties botocore's cache of the handlers per event, and
    the first command pays for filling it again: priming must be the last thing done to a client."""
    late: list[tuple[str, object]] = []

    def recorded(name: str, method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            late.append((name, args[0]))
            return method(*args, **kwargs)

        return call

    def spying(prime: Any) -> Any:
        def primed(client: Any, *args: Any) -> None:
            prime(client, *args)
            events = client.meta.events
            for name in ("register", "register_first", "register_last", "unregister"):
                monkeypatch.setattr(events, name, recorded(name, getattr(events, name)))

        return primed

    monkeypatch.setattr(priming, "prime_queue", spying(priming.prime_queue))
    monkeypatch.setattr(priming, "prime_state", spying(priming.prime_state))
    monkeypatch.setenv("STATE_TABLE", TABLE)  # rate limits on DynamoDB, as deployed
    module, _ = load_interactions_module(monkeypatch, signer)
    assert module.app is not None and len(module.ack_clients) == 2
    assert late == []
    # (botocore keeps a Config's settings as attributes its stubs do not declare)
    configs = {client.meta.service_model.service_name: vars(client.meta.config) for client in module.ack_clients}
    built = {"sqs": vars(ACK_QUEUE_CONFIG), "dynamodb": vars(ACK_STATE_CONFIG)}
    for service, config in configs.items():
        for setting in ("retries", "connect_timeout", "read_timeout"):
            assert config[setting] == built[service][setting], (service, setting)


def test_misconfigured_interactions_function_answers_503(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WORK_QUEUE_URL", raising=False)
    monkeypatch.setenv("DISCORD_APPLICATION_ID", "not-an-id")
    monkeypatch.delenv("DISCORD_PUBLIC_KEY", raising=False)
    import orchestrator.adapters.lambda_interactions as module

    module = importlib.reload(module)
    result = module.handler(function_url_event(b"{}", {}, base64_body=False), FakeLambdaContext())
    assert result["statusCode"] == 503
    logged = capsys.readouterr().out
    assert "DISCORD_APPLICATION_ID" in logged and "WORK_QUEUE_URL" in logged


def test_an_invalid_log_level_is_a_settings_problem_not_a_crash(
    aws: None, monkeypatch: pytest.MonkeyPatch, signer: InteractionSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "verbose-ghp_notatoken")
    module, _ = load_interactions_module(monkeypatch, signer)
    result = module.handler(function_url_event(b"{}", {}, base64_body=False), FakeLambdaContext())
    assert result["statusCode"] == 503
    logged = capsys.readouterr().out
    assert "LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR" in logged
    assert "VERBOSE" not in logged.upper().replace("LOG_LEVEL", "")


@pytest.fixture
def worker_stack(
    aws: None, monkeypatch: pytest.MonkeyPatch, signer: InteractionSigner
) -> Iterator[tuple[ModuleType, FakeGitHub, FakeDiscord]]:
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("ssm").put_parameter(Name="/orchestrator/github-token", Value=GITHUB_TOKEN, Type="SecureString")
    workflow = FakeWorkflow(
        id=1,
        name="Diagnose",
        inputs={"target": True, "verbose": False, "trace_id": False, "requested_by": False, "prompt": False},
        run_name_input="trace_id",
    )
    with (
        FakeGitHub(GITHUB_TOKEN, "acme/delivery", {"diagnose.yml": workflow}) as github,
        FakeDiscord(signer.application_id) as discord,
    ):
        for name, value in {
            "STATE_TABLE": TABLE,
            "DISCORD_APPLICATION_ID": signer.application_id,
            "DISCORD_API_URL": discord.api_url,
            "GITHUB_API_URL": github.url,
            "GITHUB_REPOSITORY": "acme/delivery",
            "GITHUB_TOKEN_PARAMETER": "/orchestrator/github-token",
            "WORK_QUEUE_URL": boto3.client("sqs").create_queue(QueueName="work")["QueueUrl"],
        }.items():
            monkeypatch.setenv(name, value)
        import orchestrator.adapters.lambda_worker as module

        yield importlib.reload(module), github, discord


def sqs_event(*bodies: str, receive_count: int = 1) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"r-{i}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": str(int(time.time() * 1000)),
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:work",
                "awsRegion": REGION,
            }
            for i, body in enumerate(bodies)
        ]
    }


def job_for(signer: InteractionSigner, discord: FakeDiscord) -> Job:
    payload = signer.application_command("diagnose", {"target": "staging"})
    discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=False)
    return Job(
        invocation=Invocation(
            interaction_id=payload["id"],
            trace_id="f" * 32,
            command="diagnose",
            options={"target": "staging"},
            user_id=payload["member"]["user"]["id"],
            user_name="Tester",
            guild_id=payload["guild_id"],
            channel_id=payload["channel_id"],
        ),
        application_id=signer.application_id,
        received_at=time.time(),
        interaction_token=payload["token"],
    )


def test_worker_batch_dispatches_once_and_reports_bad_items(
    worker_stack: tuple[ModuleType, FakeGitHub, FakeDiscord], signer: InteractionSigner
) -> None:
    module, github, discord = worker_stack
    job = job_for(signer, discord)
    message = job.to_message()
    result = module.handler(sqs_event(message, message, "not a job"), FakeLambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert len(github.dispatches) == 1
    shown = discord.message_for(job.interaction_token)
    assert shown is not None and shown["components"][0]["components"][0]["url"] == github.runs[0]["html_url"]
    # A redelivery later (another Lambda instance, same table) replays, never re-dispatches.
    assert module.handler(sqs_event(message), FakeLambdaContext()) == {"batchItemFailures": []}
    assert len(github.dispatches) == 1


def test_worker_tells_the_user_on_the_last_receive(
    worker_stack: tuple[ModuleType, FakeGitHub, FakeDiscord], signer: InteractionSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, github, discord = worker_stack
    monkeypatch.setattr("orchestrator.clients.retries.time.sleep", lambda _: None)
    github.stop()  # GitHub unreachable from here on
    job = job_for(signer, discord)
    early = module.handler(sqs_event(job.to_message(), receive_count=1), FakeLambdaContext())
    assert early == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    last = module.handler(
        sqs_event(job.to_message(), receive_count=module.settings.worker_max_receives), FakeLambdaContext()
    )
    assert last == {"batchItemFailures": []}
    shown = discord.message_for(job.interaction_token)
    # Unreachable on every try: by now the circuit breaker has opened, and the user is told so.
    assert shown is not None and "Nothing was started" in shown["embeds"][0]["description"]


def test_interactions_function_snapstart_hooks(
    aws: None, monkeypatch: pytest.MonkeyPatch, signer: InteractionSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    """Init reads no secret (the snapshot holds none); restored, the function answers as before."""
    runtime = FakeRuntime()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    boto3.client("ssm").put_parameter(Name="/orchestrator/button", Value="s" * 32, Type="SecureString")
    monkeypatch.delenv("BUTTON_SIGNING_SECRET")
    monkeypatch.setenv("BUTTON_SIGNING_SECRET_PARAMETER", "/orchestrator/button")
    read: list[str] = []

    def ssm_secret(name: str) -> str:
        read.append(name)
        return "s" * 32

    monkeypatch.setattr(secrets, "ssm_secret", ssm_secret)
    module, queue_url = load_interactions_module(monkeypatch, signer)
    assert module.app is not None and read == []
    assert runtime.before and runtime.after

    runtime.snapshot()
    capsys.readouterr()
    runtime.restore()
    restored = capsys.readouterr().out
    assert "restored from snapshot" in restored and '"ColdStart"' in restored  # Discord's cold start

    body = signer.encode(signer.application_command("diagnose", {"target": "staging"}))
    result = module.handler(function_url_event(body, signer.headers(body), base64_body=True), FakeLambdaContext())
    assert result["statusCode"] == 200
    assert boto3.client("sqs").receive_message(QueueUrl=queue_url)["Messages"]
