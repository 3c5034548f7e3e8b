"""The routes: the same for the Lambda function URL and `serve`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator import __version__
from orchestrator.interactions.endpoint import InteractionsEndpoint
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.web.github_webhook import GitHubWebhookEndpoint
from orchestrator.web.http import HttpRequest, HttpResponse, error_response, json_response

if TYPE_CHECKING:  # the store's modules load when it is first opened, off the cold path
    pass

_ROUTES = {"/interactions": "POST", "/github/webhook": "POST", "/healthz": "GET"}


class WebApp:
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
