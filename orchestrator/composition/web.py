"""The web app from settings: the routes the function URL, `serve` and `gateway` answer.

Imports nothing the ACK's cold path does not need: no httpx, nothing of the worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from orchestrator.commands.model import CommandSet
from orchestrator.interactions.autocomplete import Suggestions
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.interactions.endpoint import InteractionsEndpoint
from orchestrator.interactions.presses import ButtonHandler
from orchestrator.interactions.run_again import RunAgain
from orchestrator.interactions.signature import SignatureVerifier
from orchestrator.queues.base import JobQueue
from orchestrator.ratelimits.limiter import RateLimiter
from orchestrator.settings import Settings
from orchestrator.web.app import WebApp
from orchestrator.web.github_webhook import GitHubWebhookEndpoint

if TYPE_CHECKING:  # the store's modules load when it is first opened, off the cold path
    from orchestrator.state.store import StateStore


def build_web_app(
    settings: Settings,
    commands: CommandSet,
    queue: JobQueue,
    *,
    signer: Callable[[], ButtonSigner],
    state: StateStore,
    clock: Callable[[], float] = time.time,
) -> WebApp:
    """`signer` is asked on first use: only button presses and confirmations need the secret."""
    per_user, bot_wide = settings.user_rate_limit(), settings.bot_rate_limit()
    limited = per_user or bot_wide or commands.rate_limited()
    webhook_secret = settings.github_webhook_secret
    interactions = InteractionsEndpoint(
        SignatureVerifier(settings.discord_public_key),
        commands,
        queue,
        clock=clock,
        debug_enabled=settings.enable_debug_cmd,
        buttons=ButtonHandler(signer, state.pending, queue, clock=clock),
        rate_limiter=RateLimiter(state.rate_limits, per_user, bot_wide=bot_wide, clock=clock) if limited else None,
        run_again=RunAgain(signer, state.jobs, commands, clock=clock),
        suggestions=Suggestions(state.caches, queue, settings.github_repository, clock=clock),
    )
    webhook = GitHubWebhookEndpoint(webhook_secret.get if webhook_secret else None, queue, settings.github_repository)
    return WebApp(interactions, webhook)
