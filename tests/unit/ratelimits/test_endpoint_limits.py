"""Over the limit at the endpoint: an ephemeral "slow down", audited, and nothing dispatched."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import CommandSet
from orchestrator.interactions.endpoint import InteractionsEndpoint
from orchestrator.interactions.signature import SignatureVerifier
from orchestrator.jobs.envelopes import TraceOnly, parse_message
from orchestrator.ratelimits.bucket import BucketRule
from orchestrator.ratelimits.limiter import RateLimiter
from orchestrator.state.memory import MemoryRateLimitStore
from orchestrator.state.ratelimits import Bucket, RateLimitConflict, RateLimitStore, Refused
from orchestrator.web.http import HttpRequest
from orchestrator_dev.standins.signing import InteractionSigner
from tests.conftest import COMMANDS_YAML, RecordingQueue
from tests.contract.openapi import validate_interaction_response

EPHEMERAL = 64
PER_USER = BucketRule(per_minute=2, burst=3)
LIMITED_YAML = (
    COMMANDS_YAML
    + """
  restart:
    description: Restart a service
    workflow: restart.yml
    rate_limit: {per_minute: 1, burst: 1}
"""
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited_commands(tmp_path: Path) -> CommandSet:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "diagnose.md").write_text("Check things.\n", encoding="utf-8")
    path = tmp_path / "commands.yaml"
    path.write_text(LIMITED_YAML, encoding="utf-8")
    return load_commands(path)


def endpoint_with(
    signer: InteractionSigner,
    commands: CommandSet,
    queue: RecordingQueue,
    store: RateLimitStore,
    clock: Clock,
    per_user: BucketRule | None = PER_USER,
) -> InteractionsEndpoint:
    limiter = RateLimiter(store, per_user, clock=clock)
    return InteractionsEndpoint(SignatureVerifier(signer.public_key_hex), commands, queue, rate_limiter=limiter)


def run(endpoint: InteractionsEndpoint, signer: InteractionSigner, name: str, user: str, **options: Any) -> Any:
    body = signer.encode(signer.application_command(name, options, user_id=user))
    headers = {k.lower(): v for k, v in signer.headers(body).items()}
    response = endpoint.handle(HttpRequest("POST", "/interactions", headers, body))
    assert response.status == 200
    answer = json.loads(response.body)
    validate_interaction_response(answer)
    return answer


ALICE, BOB = "1150000000000000011", "1150000000000000012"


def test_a_user_over_the_limit_is_told_to_slow_down_and_nothing_is_queued(
    signer: InteractionSigner, limited_commands: CommandSet
) -> None:
    queue, clock = RecordingQueue(), Clock()
    endpoint = endpoint_with(signer, limited_commands, queue, MemoryRateLimitStore(), clock)
    for _ in range(3):
        assert run(endpoint, signer, "diagnose", ALICE, target="staging")["type"] == 5
    refused = run(endpoint, signer, "diagnose", ALICE, target="staging")
    assert refused["type"] == 4 and refused["data"]["flags"] == EPHEMERAL
    assert "Slow down" in refused["data"]["content"] and "try again in 30 s" in refused["data"]["content"]
    assert len(queue.of_kind("dispatch")) == 3, "the refused command was not queued"

    [trace_only] = queue.of_kind("trace")
    message = parse_message(json.dumps(trace_only))
    assert isinstance(message, TraceOnly) and message.outcome == "rate_limited"
    assert message.audit is not None
    assert (message.audit.outcome, message.audit.invocation.user_id, message.audit.invocation.command) == (
        "rate_limited",
        ALICE,
        "diagnose",
    )
    assert message.audit.invocation.options == {"target": "staging"}

    assert run(endpoint, signer, "diagnose", BOB, target="staging")["type"] == 5, "Bob has a bucket of his own"
    clock.now += 30
    assert run(endpoint, signer, "diagnose", ALICE, target="staging")["type"] == 5, "a token came back"


def test_a_command_with_its_own_limit(signer: InteractionSigner, limited_commands: CommandSet) -> None:
    queue, clock = RecordingQueue(), Clock()
    endpoint = endpoint_with(signer, limited_commands, queue, MemoryRateLimitStore(), clock, per_user=None)
    assert run(endpoint, signer, "restart", ALICE)["type"] == 5
    refused = run(endpoint, signer, "restart", ALICE)
    assert "/restart too often" in refused["data"]["content"] and "60 s" in refused["data"]["content"]
    assert run(endpoint, signer, "diagnose", ALICE, target="staging")["type"] == 5, "other commands are unaffected"
    assert run(endpoint, signer, "restart", BOB)["type"] == 5


def test_invalid_and_denied_commands_cost_no_token(signer: InteractionSigner, limited_commands: CommandSet) -> None:
    queue, clock = RecordingQueue(), Clock()
    endpoint = endpoint_with(signer, limited_commands, queue, MemoryRateLimitStore(), clock, BucketRule(1, 1))
    for _ in range(3):
        run(endpoint, signer, "diagnose", ALICE)  # target missing: invalid
        run(endpoint, signer, "deploy", ALICE)  # not on the allow list: denied
    assert run(endpoint, signer, "diagnose", ALICE, target="staging")["type"] == 5


class BrokenStore:
    def take(self, buckets: Sequence[Bucket], now: float) -> Refused | None:
        raise OSError("state store throttled")


def test_a_store_that_cannot_answer_lets_commands_through(
    signer: InteractionSigner, limited_commands: CommandSet, captured_logs: Any
) -> None:
    queue = RecordingQueue()
    endpoint = endpoint_with(signer, limited_commands, queue, BrokenStore(), Clock())
    assert run(endpoint, signer, "diagnose", ALICE, target="staging")["type"] == 5
    assert "rate limit unavailable" in captured_logs.getvalue()


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("rate_limit: 5", "expected a mapping"),
        ("rate_limit: {per_minute: 0}", "per_minute"),
        ("rate_limit: {per_minute: true}", "per_minute"),
        ("rate_limit: {per_minute: 2, burst: 0}", "burst"),
        ("rate_limit: {per_minute: 2, burst: 1.5}", "burst"),
        ("rate_limit: {per_minute: 2, every: 3}", "unknown key 'every'"),
    ],
)
def test_bad_rate_limits_in_the_commands_file(tmp_path: Path, rule: str, problem: str) -> None:
    from orchestrator.commands.loader import check_commands

    path = tmp_path / "commands.yaml"
    path.write_text(f"commands:\n  restart:\n    description: Restart\n    workflow: restart.yml\n    {rule}\n")
    _, problems = check_commands(path)
    assert any(problem in p and "rate_limit" in p for p in problems), problems


def test_debug_last_and_presses_have_a_bucket_of_their_own(
    signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue
) -> None:
    clock = Clock()
    store = MemoryRateLimitStore()
    limiter = RateLimiter(store, PER_USER, clock=clock)
    endpoint = InteractionsEndpoint(
        SignatureVerifier(signer.public_key_hex), commands, queue, rate_limiter=limiter, debug_enabled=True
    )
    answers = [run(endpoint, signer, "debug-last", ALICE) for _ in range(2 * PER_USER.burst + 1)]
    assert [a["type"] for a in answers] == [5] * 2 * PER_USER.burst + [4]
    assert "Slow down" in answers[-1]["data"]["content"] and answers[-1]["data"]["flags"] == EPHEMERAL
    # Presses are counted in the same bucket; Alice's commands are not touched by either.
    press = signer.encode(signer.button_press("cancel:1:zz:sig", user_id=ALICE))
    headers = {k.lower(): v for k, v in signer.headers(press).items()}
    refused = json.loads(endpoint.handle(HttpRequest("POST", "/interactions", headers, press)).body)
    assert "pressed buttons" in refused["data"]["content"]
    assert run(endpoint, signer, "diagnose", ALICE, target="staging")["type"] == 5


def test_the_bot_wide_bucket_holds_everyone_together(
    signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue
) -> None:
    store, clock = MemoryRateLimitStore(), Clock()
    limiter = RateLimiter(store, None, bot_wide=BucketRule(per_minute=2, burst=2), clock=clock)
    endpoint = InteractionsEndpoint(SignatureVerifier(signer.public_key_hex), commands, queue, rate_limiter=limiter)
    users = [f"11500000000000001{n:02d}" for n in range(3)]
    answers = [run(endpoint, signer, "diagnose", user, target="staging") for user in users]
    assert [a["type"] for a in answers] == [5, 5, 4]
    assert "The bot is starting as many runs as it may right now" in answers[-1]["data"]["content"]
    [refusal] = [m for m in map(parse_message, queue.messages) if isinstance(m, TraceOnly)]
    assert refusal.outcome == "rate_limited"
    clock.now += 30  # one token back
    assert run(endpoint, signer, "diagnose", users[2], target="staging")["type"] == 5


def test_a_take_that_keeps_colliding_is_refused_not_let_through(limited_commands: CommandSet) -> None:
    class Contended:
        def take(self, buckets: Sequence[Bucket], now: float) -> Refused | None:
            raise RateLimitConflict([bucket.key for bucket in buckets])

    limiter = RateLimiter(Contended(), PER_USER, bot_wide=BucketRule(per_minute=60, burst=20))
    spec = limited_commands.commands["diagnose"]
    refusal = limiter.check("111111111111111111", spec)
    assert refusal is not None and refusal.scope == "bot" and refusal.retry_after == 1.0
