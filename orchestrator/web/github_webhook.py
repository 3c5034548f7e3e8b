"""POST /github/webhook: verified `workflow_run` deliveries, handed to the worker through the queue.

The answer comes at once: nothing here calls GitHub, Discord or the state store. Redeliveries
(the same X-GitHub-Delivery) are dropped by the worker, which claims each delivery id once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from urllib.parse import parse_qs

from orchestrator.jobs.envelopes import RunEvent
from orchestrator.observability.logging import get_logger
from orchestrator.queues.base import JobQueue, QueueUnavailable
from orchestrator.runs.model import BadRunData, RunSnapshot
from orchestrator.serialization import loads
from orchestrator.settings import SecretUnavailable
from orchestrator.web.http import HttpRequest, HttpResponse, error_response, json_response

MAX_WEBHOOK_BYTES = 1024 * 1024  # workflow_run payloads are tens of KB
ACTIONS = frozenset({"requested", "in_progress", "completed"})


class GitHubWebhookEndpoint:
    def __init__(self, secret: Callable[[], str] | None, queue: JobQueue, repository: str) -> None:
        self._secret = secret
        self._queue = queue
        self._repository = repository.lower()

    def handle(self, request: HttpRequest) -> HttpResponse:
        log = get_logger()
        if self._secret is None:
            return error_response(503, "webhooks are not configured: set GITHUB_WEBHOOK_SECRET")
        if len(request.body) > MAX_WEBHOOK_BYTES:
            return error_response(413, "request body too large")
        try:
            secret = self._secret()
        except SecretUnavailable as exc:
            log.error("webhook secret unavailable", extra={"reason": str(exc)})
            return error_response(503, "webhook secret unavailable")
        if not _signed(secret, request.body, request.headers.get("x-hub-signature-256", "")):
            log.info("webhook rejected: bad or missing signature")
            return error_response(401, "invalid X-Hub-Signature-256")
        event = request.headers.get("x-github-event", "")
        delivery = request.headers.get("x-github-delivery", "")
        if not _is_delivery_id(delivery):
            return error_response(400, "missing or malformed X-GitHub-Delivery")
        if event == "ping":
            return json_response(200, {"ok": True})
        if event != "workflow_run":
            return json_response(202, {"ignored": f"event {event[:40]!r} is not used"})
        try:
            payload = loads(_json_body(request))
            if not isinstance(payload, dict):
                raise BadRunData("payload must be an object")
            snapshot = RunSnapshot.from_api(payload.get("workflow_run"))
        except ValueError as exc:  # bad JSON and BadRunData alike
            return error_response(400, f"malformed workflow_run payload: {exc}"[:200])
        repository = (
            (payload.get("repository") or {}).get("full_name") if isinstance(payload.get("repository"), dict) else None
        )
        if not isinstance(repository, str) or repository.lower() != self._repository:
            return json_response(202, {"ignored": "another repository"})
        action = payload.get("action")
        if not isinstance(action, str) or action not in ACTIONS:  # a list or object is not hashable
            return json_response(202, {"ignored": "action not used"})
        try:
            self._queue.send(RunEvent(delivery, snapshot.to_dict()).to_message())
        except QueueUnavailable as exc:
            # GitHub marks the delivery failed; it can be redelivered, and polls still follow the run.
            log.error("webhook not queued", extra={"reason": str(exc)})
            return error_response(503, "queue unavailable")
        log.info("webhook queued", extra={"run_id": snapshot.run_id, "status": snapshot.status, "delivery": delivery})
        return json_response(202, {"queued": True})


def _json_body(request: HttpRequest) -> bytes:
    """The payload's JSON: the body as it is, or, with the content type GitHub's form offers first
    (application/x-www-form-urlencoded), its `payload` field. The signature covers the raw body
    either way, and was checked before this."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return request.body
    fields = parse_qs(request.body.decode("ascii", "replace"), max_num_fields=10)
    payload = fields.get("payload")
    if not payload or len(payload) != 1:
        raise ValueError("a form-encoded delivery needs exactly one payload field")
    return payload[0].encode()


def _is_delivery_id(delivery: str) -> bool:
    """GitHub sends a GUID; anything printable and ASCII will do as a key (and can be logged and queued)."""
    return 0 < len(delivery) <= 100 and delivery.isascii() and delivery.isprintable()


def _signed(secret: str, body: bytes, header: str) -> bool:
    # Not ASCII (a lone surrogate, from an adapter that passes one through): not a hex digest.
    if not header.startswith("sha256=") or not header.isascii():
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].encode(), expected.encode())
