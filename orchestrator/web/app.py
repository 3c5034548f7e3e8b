"""The routes: the same for the Lambda function URL and `serve`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orchestrator import __version__
from orchestrator.commands.model import CommandSet
from orchestrator.interactions.autocomplete import Suggestions
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.interactions.endpoint import InteractionsEndpoint
from orchestrator.interactions.presses import ButtonHandler
from orchestrator.interactions.run_again import RunAgain
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.queues.base import JobQueue
from orchestrator.ratelimits.limiter import RateLimiter
from orchestrator.settings import Settings
from orchestrator.web.github_webhook import GitHubWebhookEndpoint
from orchestrator.web.http import HttpRequest, HttpResponse, error_response, json_response

if TYPE_CHECKING:  # the store's modules load when it is first opened, off the cold path
    from orchestrator.state.store import StateStore

_ROUTES = {"/interactions": "POST", "/github/webhook": "POST", "/healthz": "GET"}


class WebApp:
    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        commands: CommandSet,
        queue: JobQueue,
        *,
        signer: Callable[[], ButtonSigner],
        state: StateStore,
    ) -> WebApp:
        """The routes as both the function URL and `serve` run them."""
        buttons = ButtonHandler(signer, state.pending, queue)
        run_again = RunAgain(signer, state.jobs, commands)
        per_user, bot_wide = settings.user_rate_limit(), settings.bot_rate_limit()
        limited = per_user or bot_wide or commands.rate_limited()
        rate_limiter = RateLimiter(state.rate_limits, per_user, bot_wide=bot_wide) if limited else None
        webhook_secret = settings.github_webhook_secret
        suggestions = Suggestions(state.caches, queue, settings.github_repository)
        return cls(
            InteractionsEndpoint.from_settings(
                settings,
                commands,
                queue,
                buttons=buttons,
                rate_limiter=rate_limiter,
                run_again=run_again,
                suggestions=suggestions,
            ),
            GitHubWebhookEndpoint(webhook_secret.get if webhook_secret else None, queue, settings.github_repository),
        )

    def __init__(self, interactions: InteractionsEndpoint, webhook: GitHubWebhookEndpoint) -> None:
        self.interactions = interactions
        self._webhook = webhook

    def handle(self, request: HttpRequest) -> HttpResponse:
        with log_context(trace_id=request.trace_id):
            return self._route(request)

    def _route(self, request: HttpRequest) -> HttpResponse:
        path = request.path.rstrip("/") or "/"
        allowed = _ROUTES.get(path)
        if allowed is None:
            return error_response(404, "not found")
        if request.method != allowed:
            return HttpResponse(
                405, b'{"error":"method not allowed"}', {"allow": allowed, "content-type": "application/json"}
            )
        try:
            if path == "/interactions":
                return self.interactions.handle(request)
            if path == "/github/webhook":
                return self._webhook.handle(request)
            return json_response(200, {"status": "ok", "version": __version__})
        except Exception:  # noqa: BLE001
            # A bug must not take the endpoint down or show a stack trace to the caller.
            get_logger().exception("unhandled error", extra={"path": path})
            return error_response(500, "internal error")
