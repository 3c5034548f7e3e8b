"""Circuit breakers: open after repeated failures, fail fast, probe once, close on success."""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path

import httpx
import pytest

from orchestrator.alerts.bot_alerts import breaker_alert
from orchestrator.clients.breaker import BreakerOpened, BreakerTransport, CircuitBreaker, CircuitOpen
from orchestrator.clients.github_api import GitHubClient
from orchestrator.clients.github_errors import GitHubCircuitOpen
from orchestrator.clients.retries import RetryPolicy, send
from orchestrator.commands.loader import load_commands
from orchestrator.composition.worker import build_worker
from orchestrator.dispatch.dispatcher import RetryLater
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.observability.metrics import MemoryMetrics
from orchestrator.settings import Role, load_settings
from orchestrator.state.store import open_state_store
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub
from orchestrator_dev.standins.http_standin import Fault
from tests.conftest import RecordingQueue
from tests.fixtures.worker import (
    APPLICATION_ID,
    CHANNEL_ID,
    GITHUB_TOKEN,
    REPO,
    Harness,
    HarnessFactory,
    context,
    http_client,
    link_button,
    new_job,
)


def state_of(breaker: CircuitBreaker) -> str:
    """The breaker's state, read afresh (a property mypy would otherwise narrow between reads)."""
    return breaker.state


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Upstream:
    """An httpx MockTransport answering from a list of statuses (or raising), counting what reached it."""

    def __init__(self, *answers: int | type[httpx.TransportError]) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, int):
            return httpx.Response(answer, json={})
        raise answer("boom", request=request)


def guarded(upstream: Upstream, breaker: CircuitBreaker) -> httpx.Client:
    return httpx.Client(transport=BreakerTransport(breaker, httpx.MockTransport(upstream)))


def test_opens_after_the_threshold_and_fails_fast_without_sending() -> None:
    clock = Clock()
    breaker = CircuitBreaker("GitHub", failures=3, cooldown_seconds=30, clock=clock)
    upstream = Upstream(503, httpx.ReadTimeout, 502)
    client = guarded(upstream, breaker)
    opened: list[BreakerOpened] = []
    breaker.on_open(opened.append)

    assert client.get("http://api.test/").status_code == 503
    with pytest.raises(httpx.ReadTimeout):
        client.get("http://api.test/")
    assert state_of(breaker) == "closed"
    assert client.get("http://api.test/").status_code == 502
    assert state_of(breaker) == "open"

    for _ in range(10):
        with pytest.raises(CircuitOpen) as refused:
            client.get("http://api.test/")
    assert upstream.calls == 3, "an open breaker sends nothing"
    assert refused.value.retry_in == pytest.approx(30)
    assert [o.failures for o in opened] == [3], "the listeners hear of each opening once"
    assert opened[0].last_error == "HTTP 502"


def test_rate_limits_and_client_errors_do_not_count_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker("Discord", failures=2, cooldown_seconds=30, clock=Clock())
    client = guarded(Upstream(503, 429, 404, 503, 200, 503), breaker)
    for _ in range(6):
        client.get("http://api.test/")
    assert state_of(breaker) == "closed"


def test_half_open_lets_one_probe_through_and_its_answer_decides() -> None:
    clock = Clock()
    breaker = CircuitBreaker("GitHub", failures=1, cooldown_seconds=30, clock=clock)
    opened: list[BreakerOpened] = []
    breaker.on_open(opened.append)
    breaker.record_failure("HTTP 500")
    assert breaker.admit() == pytest.approx(30)

    clock.now += 30
    assert state_of(breaker) == "half_open"
    assert breaker.admit() is None, "the first request after the cooldown is the probe"
    assert breaker.admit() == pytest.approx(1.0), "the others wait for the probe's answer"
    breaker.record_failure("HTTP 500")
    assert state_of(breaker) == "open", "a failed probe opens the breaker for another cooldown"
    assert len(opened) == 2

    clock.now += 30
    assert breaker.admit() is None
    breaker.record_success()
    assert state_of(breaker) == "closed"
    assert breaker.admit() is None and breaker.admit() is None


def test_a_probe_that_raises_something_else_does_not_wedge_the_breaker() -> None:
    clock = Clock()
    breaker = CircuitBreaker("GitHub", failures=1, cooldown_seconds=5, clock=clock)
    breaker.record_failure("HTTP 500")
    clock.now += 5

    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug below us")

    client = httpx.Client(transport=BreakerTransport(breaker, httpx.MockTransport(explode)))
    with pytest.raises(RuntimeError):
        client.get("http://api.test/")
    clock.now += 5
    assert breaker.admit() is None, "the next cooldown ends with a new probe"


def test_the_retry_loop_does_not_retry_an_open_breaker() -> None:
    breaker = CircuitBreaker("GitHub", failures=1, cooldown_seconds=30, clock=Clock())
    breaker.record_failure("HTTP 500")
    sleeps: list[float] = []
    with pytest.raises(CircuitOpen):
        send(guarded(Upstream(), breaker), "GET", "http://api.test/", policy=RetryPolicy(), sleep=sleeps.append)
    assert sleeps == []


def test_the_github_client_reports_an_open_breaker_as_nothing_sent() -> None:
    breaker = CircuitBreaker("GitHub", failures=1, cooldown_seconds=30, clock=Clock())
    breaker.record_failure("HTTP 500")
    github = GitHubClient(guarded(Upstream(), breaker), "http://api.test", GITHUB_TOKEN, REPO)
    with pytest.raises(GitHubCircuitOpen) as refused:
        github.dispatch_workflow("diagnose.yml", "main", {}, return_run_details=True)
    assert refused.value.retry_in == pytest.approx(30)


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker("GitHub", failures=0)
    with pytest.raises(ValueError):
        CircuitBreaker("GitHub", cooldown_seconds=0)


def _breaker_harness(make_harness: HarnessFactory, breaker: CircuitBreaker) -> Harness:
    return make_harness(github_http=http_client(transport=BreakerTransport(breaker, httpx.HTTPTransport())))


def test_github_down_a_burst_of_commands_fails_fast_with_a_truthful_message(make_harness: HarnessFactory) -> None:
    breaker = CircuitBreaker("GitHub", failures=3, cooldown_seconds=60)
    opened: list[BreakerOpened] = []
    breaker.on_open(opened.append)
    harness = _breaker_harness(make_harness, breaker)
    # GitHub answers every request 503 (the dispatch and every look for its run).
    harness.github.inject(*[Fault(status=503) for _ in range(40)])

    jobs = [harness.job() for _ in range(6)]
    for job in jobs:
        with contextlib.suppress(RetryLater):  # a job that could not conclude goes back to the queue
            harness.process(job)
    reached = len(harness.github.requests)
    assert state_of(breaker) == "open"
    assert len(opened) == 1
    assert len(harness.dispatch_posts()) <= 3, "once open, no more dispatches are sent"

    # The jobs that came after the breaker opened were never sent: they say so at once.
    late = jobs[-1]
    record = harness.record(late)
    assert record.status == "rejected"
    assert "paused" in (record.detail or "") and "Nothing was started" in (record.detail or "")
    assert link_button(harness.message(late)) is None
    assert len(harness.github.requests) == reached, "nothing more reached GitHub"


def test_breaker_alert_names_the_service_and_what_users_see() -> None:
    alert = breaker_alert(BreakerOpened("GitHub", 5, 30.0, "HTTP 503"))
    again = breaker_alert(BreakerOpened("GitHub", 7, 30.0, "ReadTimeout"))
    assert alert.severity == "critical" and "GitHub" in alert.title
    assert "Users are told nothing was started" in alert.cause
    assert alert.fingerprint() != breaker_alert(BreakerOpened("Discord", 5, 30.0, "HTTP 503")).fingerprint()
    # The same outage seen by another instance (other counts) is the same problem, for deduplication.
    assert alert.fingerprint() == breaker_alert(BreakerOpened("GitHub", 5, 30.0, "HTTP 503")).fingerprint()
    assert again.title == alert.title


def test_the_worker_from_settings_alerts_once_when_github_goes_down(
    tmp_path: Path, commands_path: Path, fake_github: FakeGitHub
) -> None:
    """The deployed wiring: breakers in the worker's clients, their openings raising one alert."""
    bot_token = "breaker-test-bot-token-" + secrets.token_urlsafe(16)
    with FakeDiscord(APPLICATION_ID, bot_token=bot_token) as discord:
        settings = load_settings(
            {
                "DISCORD_APPLICATION_ID": APPLICATION_ID,
                "DISCORD_API_URL": discord.api_url,
                "DISCORD_BOT_TOKEN": bot_token,
                "GITHUB_TOKEN": GITHUB_TOKEN,
                "GITHUB_REPOSITORY": REPO,
                "GITHUB_API_URL": fake_github.url,
                "COMMANDS_FILE": str(commands_path),
                "STATE_STORE": "memory://",
                "ENABLE_ALERTS": "true",
                "ALERT_CHANNEL_ID": CHANNEL_ID,
                "BREAKER_FAILURES": "2",
                "BREAKER_COOLDOWN_SECONDS": "600",
            },
            roles={Role.WORKER},
            in_lambda=False,
        )
        state = open_state_store(settings.state_store)
        worker = build_worker(
            settings,
            load_commands(commands_path),
            state,
            MemoryMetrics(),
            RecordingQueue(),
            ButtonSigner(b"breaker-test-signing-secret-0123"),
        )
        fake_github.inject(*[Fault(status=503) for _ in range(40)])
        for _ in range(5):
            job = new_job()
            discord.open_interaction(job.interaction_token, channel_id=CHANNEL_ID, ephemeral=False)
            with contextlib.suppress(RetryLater):  # an inconclusive job goes back to the queue
                worker.process(job.to_message(), context=context(), final_attempt=False)
        alerts = discord.channel_messages(CHANNEL_ID)
        assert len(alerts) == 1, "one alert for the outage, however many commands ran into it"
        assert "GitHub failing" in str(alerts[0])
        assert bot_token not in str(alerts) and GITHUB_TOKEN not in str(alerts)
