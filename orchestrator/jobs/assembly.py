"""The worker built from its parts: from the settings (the Lambda worker, `serve`, `gateway`), or
from parts a caller made (tests, the benchmark)."""

from __future__ import annotations

import time
from collections.abc import Callable

from orchestrator.alerts.alerter import Alerter
from orchestrator.alerts.bot_alerts import breaker_alert
from orchestrator.audit.trail import AuditTrail
from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_api import GitHubClient
from orchestrator.clients.guarded import breaker_from_settings, guarded_client
from orchestrator.clients.job_logs import JobLogDownloader
from orchestrator.commands.model import CommandSet
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
from orchestrator.runs.polling import DEFAULT_POLL_LIMIT
from orchestrator.runs.tracker import RunTracker
from orchestrator.settings import Settings
from orchestrator.state.audit import DEFAULT_AUDIT_RETENTION_DAYS
from orchestrator.state.store import StateStore
from orchestrator.workflows.catalog import WorkflowCatalog
from orchestrator.workflows.preflight import Preflight


def worker_from_settings(
    settings: Settings,
    commands: CommandSet,
    state: StateStore,
    metrics_sink: metrics.MetricsSink,
    queue: JobQueue,
    signer: ButtonSigner,
) -> JobWorker:
    """The deployed wiring: clients behind circuit breakers whose openings raise one alert each."""
    github_breaker, discord_breaker = (breaker_from_settings(settings, name) for name in ("GitHub", "Discord"))
    github = GitHubClient(
        guarded_client(github_breaker),
        settings.github_api_url,
        settings.github_token_source(),
        settings.github_repository,
    )
    discord = DiscordClient(
        guarded_client(discord_breaker),
        settings.discord_api_url,
        settings.discord_application_id,
        bot_token=settings.discord_bot_token_source(),
    )
    alerter = Alerter.from_settings(settings, state.alerts, discord, metrics_sink)
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
    )


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
    follower = RunFollower(
        state.jobs,
        commands,
        github,
        discord,
        tracker,
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
        state.jobs,
        commands,
        github,
        discord,
        tracker,
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
