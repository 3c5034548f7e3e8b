"""The routes: the same for the Lambda function URL and `serve`."""

from __future__ import annotations

from orchestrator import __version__
from orchestrator.interactions.endpoint import InteractionsEndpoint
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.web.http import HttpRequest, HttpResponse, error_response, json_response

_ROUTES = {"/interactions": "POST", "/github/webhook": "POST", "/healthz": "GET"}


class WebApp:
    def __init__(self, interactions: InteractionsEndpoint) -> None:
        self._interactions = interactions

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
                return self._interactions.handle(request)
            if path == "/github/webhook":
                return error_response(501, "workflow_run webhooks are not handled yet")
            return json_response(200, {"status": "ok", "version": __version__})
        except Exception:  # noqa: BLE001
            # A bug must not take the endpoint down or show a stack trace to the caller.
            get_logger().exception("unhandled error", extra={"path": path})
            return error_response(500, "internal error")
