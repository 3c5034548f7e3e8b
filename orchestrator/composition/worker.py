"""The worker and the ops channel's alerter from settings, with their HTTP clients: each API
(GitHub, Discord) behind a circuit breaker whose opening raises one alert. `assemble_worker`
puts the worker together from parts, for `build_worker` and for callers that make the parts
themselves (tests, the benchmark)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from orchestrator.alerts.alerter import Alerter
from orchestrator.alerts.bot_alerts import breaker_alert
from orchestrator.audit.trail import AuditTrail
from orchestrator.clients.breaker import BreakerTransport, CircuitBreaker
from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_api import GitHubClient
from orchestrator.clients.job_logs import JobLogDownloader
from orchestrator.clients.retries import DEFAULT_TIMEOUT
from orchestrator.commands.model import CommandSet
from orchestrator.composition.clients import discord_client
from orchestrator.dispatch.dispatcher import Dispatcher
from orchestrator.failures.builder import DigestBuilder
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.jobs.dispatch_job import DispatchJob
from orchestrator.jobs.reporting import Reporting
from orchestrator.jobs.worker import JobWorker
from orchestrator.observability import metrics
from orchestrator.queues.base import JobQueue
from orchestrator.runs.actions import RunActions
from orchestrator.runs.follower import RunFollower
from orchestrator.runs.parts import RunParts
from orchestrator.runs.polling import DEFAULT_POLL_LIMIT
from orchestrator.runs.tracker import RunTracker
from orchestrator.settings import Settings
from orchestrator.state.alerts import AlertStateStore
from orchestrator.state.audit import DEFAULT_AUDIT_RETENTION_DAYS
from orchestrator.state.store import StateStore
from orchestrator.workflows.catalog import WorkflowCatalog
from orchestrator.workflows.preflight import Preflight


def build_worker(
    settings: Settings,
    commands: CommandSet,
    state: StateStore,
    metrics_sink: metrics.MetricsSink,
    queue: JobQueue,
    signer: ButtonSigner,
    *,
    clock: Callable[[], float] = time.time,
    transport: httpx.BaseTransport | None = None,
) -> JobWorker:
    """`transport` carries every GitHub and Discord request (None: the network)."""
    github_breaker, discord_breaker = (_breaker(settings, service) for service in ("GitHub", "Discord"))
    github = GitHubClient(
        _guarded(github_breaker, transport),
        settings.github_api_url,
        settings.github_token_source(),
        settings.github_repository,
    )
    discord = discord_client(settings, _guarded(discord_breaker, transport))
    alerter = build_alerter(settings, state.alerts, discord, metrics_sink, clock=clock)
    for breaker in (github_breaker, discord_breaker):
        breaker.on_open(lambda opened: alerter.raise_alert(breaker_alert(opened)))
    return assemble_worker(
        commands,
        state,
        github,
        discord,
        Dispatcher(github, state.jobs, settings.github_repository),
        signer,
        queue,
        metrics_sink,
        webhooks=settings.github_webhook_secret is not None,
        poll_limit=settings.poll_limit,
        alerter=alerter,
        audit_retention_days=settings.audit_retention_days,
        digests=DigestBuilder(
            github,
            JobLogDownloader(),
            max_log_bytes=settings.failure_log_max_bytes,
            budget_seconds=settings.failure_digest_seconds,
        ),
        clock=clock,
    )


def build_alerter(
    settings: Settings,
    store: AlertStateStore,
    discord: DiscordClient,
    metrics_sink: metrics.MetricsSink,
    *,
    clock: Callable[[], float] = time.time,
) -> Alerter:
    return Alerter(
        store,
        discord,
        settings.alert_channel_id,
        metrics_sink,
        enabled=settings.enable_alerts,
        window_seconds=settings.alert_window_seconds,
        per_minute=settings.alert_rate_per_minute,
        clock=clock,
    )


def _breaker(settings: Settings, service: str) -> CircuitBreaker:
    return CircuitBreaker(
        service, failures=settings.breaker_failures, cooldown_seconds=float(settings.breaker_cooldown_seconds)
    )


def _guarded(breaker: CircuitBreaker, transport: httpx.BaseTransport | None) -> httpx.Client:
    """An httpx client whose every request passes through `breaker`, with the project's timeouts."""
    return httpx.Client(timeout=DEFAULT_TIMEOUT, transport=BreakerTransport(breaker, transport))


def assemble_worker(
    commands: CommandSet,
    state: StateStore,
    github: GitHubClient,
    discord: DiscordClient,
    dispatcher: Dispatcher,
    signer: ButtonSigner,
    queue: JobQueue,
    metrics_sink: metrics.MetricsSink,
    *,
    webhooks: bool,
    poll_limit: int = DEFAULT_POLL_LIMIT,
    alerter: Alerter | None = None,
    audit_retention_days: int = DEFAULT_AUDIT_RETENTION_DAYS,
    digests: DigestBuilder | None = None,
    clock: Callable[[], float] = time.time,
) -> JobWorker:
    """The worker from its parts (tests and the benchmark build the parts themselves)."""
    audit = AuditTrail(state.audit, retention_days=audit_retention_days, clock=clock)
    reporting = Reporting(state.traces, metrics_sink, commands.commands, alerter)
    tracker = RunTracker(
        state.jobs,
        github,
        discord,
        signer,
        digests=digests or DigestBuilder(github, JobLogDownloader()),
        clock=clock,
    )
    parts = RunParts(state.jobs, commands, github, discord, tracker)
    follower = RunFollower(
        parts,
        queue,
        metrics_sink,
        webhooks=webhooks,
        poll_limit=poll_limit,
        alerter=alerter,
        audit=audit,
        traces=state.traces,
        clock=clock,
    )
    run_actions = RunActions(
        parts,
        signer,
        audit,
        start_following=follower.start_following,
        clock=clock,
    )
    catalog = WorkflowCatalog(github, state.caches, dispatcher.repository, clock=clock)
    dispatch_job = DispatchJob(
        commands,
        state,
        dispatcher,
        Preflight(catalog, dispatcher.repository),
        tracker,
        follower,
        audit=audit,
        reporting=reporting,
        clock=clock,
    )
    return JobWorker(
        state,
        dispatch_job,
        follower,
        run_actions,
        discord,
        catalog,
        audit=audit,
        reporting=reporting,
    )
