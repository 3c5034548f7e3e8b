"""Webhook deliveries: `workflow_run` and `ping` bodies as GitHub sends them, and the sender that
posts them in order from a background thread, signed, keeping every attempt for tests to read."""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import json
import logging
import secrets
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx

from orchestrator_dev.standins.fake_github.model import FakeWorkflow
from orchestrator_dev.standins.fake_github.wire import REPOSITORY_ID, user_object, webhook_repository

logger = logging.getLogger(__name__)

HOOK_ID = 498_765_432
HOOKSHOT_USER_AGENT = "GitHub-Hookshot/4f3a2b1"
_MASK = "********"  # how GitHub shows a hook's secret
_ZEN = (
    "Design for failure.",
    "Keep it logically awesome.",
    "Speak like a human.",
    "Non-blocking is better than blocking.",
    "Anything added dilutes everything else.",
    "Practicality beats purity.",
    "Avoid administrative distraction.",
    "Mind your words, they are important.",
    "Approachable is better than simple.",
    "Half measures are as bad as nothing at all.",
)


class Delivery(NamedTuple):
    """One attempt at a webhook delivery, as `FakeGitHub.deliveries` lists it."""

    delivery_id: str
    action: str  # the workflow_run action, or "ping"
    run_id: int | None
    outcome: int | str  # the receiver's HTTP status, or the name of the exception that stopped the attempt


@dataclass(frozen=True)
class _Outgoing:
    delivery_id: str
    event: str
    action: str
    run_id: int | None
    body: bytes


class WebhookSender:
    """Posts each queued delivery to `url`, in the order queued, signed with `secret` when there is one.

    The outbox, the attempts and the pending count share one lock; FakeGitHub takes it after its
    `_state`, never before.
    """

    timeout = 2.0  # seconds for one delivery attempt

    def __init__(self, url: str | None, secret: str | None) -> None:
        self.url = url
        self.secret = secret
        self._outbox_ready = threading.Condition()
        self._outbox: collections.deque[_Outgoing] = collections.deque()
        self._pending = 0
        self._sent: dict[str, _Outgoing] = {}
        self._deliveries: list[Delivery] = []
        self._delivery_stop = threading.Event()
        self._delivery_thread: threading.Thread | None = None

    def start(self, thread_name: str) -> None:
        """The delivery thread runs even without a `url`: one may be given later (nothing is queued until then)."""
        self._delivery_stop = stop = threading.Event()
        self._delivery_thread = threading.Thread(target=self._deliver_loop, args=(stop,), name=thread_name, daemon=True)
        self._delivery_thread.start()

    def stop(self) -> None:
        """Deliveries not yet attempted are dropped (an attempt under way finishes first)."""
        thread, self._delivery_thread = self._delivery_thread, None
        if thread is not None:
            with self._outbox_ready:
                self._delivery_stop.set()
                self._outbox_ready.notify_all()
            thread.join()
        with self._outbox_ready:
            self._outbox.clear()
            self._pending = 0
            self._outbox_ready.notify_all()

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery attempt that has finished, in order; a redelivery repeats its delivery id."""
        with self._outbox_ready:
            return list(self._deliveries)

    def redeliver(self, delivery_id: str) -> None:
        """Send a past delivery again, with the same delivery id and body, as GitHub's "Redeliver" does."""
        with self._outbox_ready:
            outgoing = self._sent.get(delivery_id)
            if outgoing is None:
                raise KeyError(f"no delivery {delivery_id!r}")
            self._outbox.append(outgoing)
            self._pending += 1
            self._outbox_ready.notify_all()

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until every queued delivery has been attempted; False if `timeout` seconds pass first."""
        with self._outbox_ready:
            return self._outbox_ready.wait_for(lambda: self._pending == 0, timeout)

    def enqueue(self, event: str, action: str, run_id: int | None, payload: Mapping[str, Any]) -> str:
        """Serialize now (the body is what the run was at this moment) and queue the delivery."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        outgoing = _Outgoing(str(uuid.uuid4()), event, action, run_id, body)
        with self._outbox_ready:
            self._sent[outgoing.delivery_id] = outgoing
            self._outbox.append(outgoing)
            self._pending += 1
            self._outbox_ready.notify_all()
        return outgoing.delivery_id

    def _deliver_loop(self, stop: threading.Event) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while True:
                with self._outbox_ready:
                    self._outbox_ready.wait_for(lambda: bool(self._outbox) or stop.is_set())
                    if stop.is_set():
                        return
                    outgoing = self._outbox.popleft()
                outcome = self._post(client, outgoing)
                with self._outbox_ready:
                    self._deliveries.append(Delivery(outgoing.delivery_id, outgoing.action, outgoing.run_id, outcome))
                    self._pending = max(0, self._pending - 1)
                    self._outbox_ready.notify_all()

    def _post(self, client: httpx.Client, outgoing: _Outgoing) -> int | str:
        url = self.url
        if url is None:  # the receiver was taken away after this delivery was queued
            return "no webhook_url"
        headers = {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": HOOKSHOT_USER_AGENT,
            "X-GitHub-Delivery": outgoing.delivery_id,
            "X-GitHub-Event": outgoing.event,
            "X-GitHub-Hook-ID": str(HOOK_ID),
            "X-GitHub-Hook-Installation-Target-ID": str(REPOSITORY_ID),
            "X-GitHub-Hook-Installation-Target-Type": "repository",
        }
        if self.secret is not None:
            key = self.secret.encode()
            headers["X-Hub-Signature"] = "sha1=" + hmac.new(key, outgoing.body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(key, outgoing.body, hashlib.sha256).hexdigest()
        try:
            return client.post(url, content=outgoing.body, headers=headers).status_code
        except Exception as exc:  # a failed delivery is recorded, never fatal to the delivery thread
            logger.debug("webhook delivery %s failed", outgoing.delivery_id, exc_info=True)
            return type(exc).__name__


def workflow_run_payload(
    base: str, repository: str, action: str, run: dict[str, Any], workflow: FakeWorkflow
) -> dict[str, Any]:
    """A `workflow_run` event's body: the run as it is now (`base`: the API's URL)."""
    api = f"{base}/repos/{repository}"
    return {
        "action": action,
        "workflow_run": run,
        "workflow": {
            "id": workflow.id,
            "node_id": "W_" + base64.urlsafe_b64encode(workflow.id.to_bytes(8, "big")).decode().rstrip("="),
            "name": workflow.name,
            "path": run["path"],
            "state": "active",
            "created_at": "2024-01-02T10:00:00.000Z",
            "updated_at": "2024-01-02T10:00:00.000Z",
            "url": f"{api}/actions/workflows/{workflow.id}",
            "html_url": f"https://github.com/{repository}/blob/main/{run['path']}",
            "badge_url": f"https://github.com/{repository}/workflows/{workflow.name}/badge.svg",
        },
        "repository": webhook_repository(base, repository),
        "sender": run["triggering_actor"],
    }


def ping_payload(base: str, repository: str, url: str, *, signed: bool, created: str) -> dict[str, Any]:
    """A `ping` event's body, as GitHub sends when a webhook is created (`base`: the API's URL)."""
    hook_api = f"{base}/repos/{repository}/hooks/{HOOK_ID}"
    config: dict[str, Any] = {"content_type": "json", "insecure_ssl": "0", "url": url}
    if signed:
        config["secret"] = _MASK
    return {
        "zen": secrets.choice(_ZEN),
        "hook_id": HOOK_ID,
        "hook": {
            "type": "Repository",
            "id": HOOK_ID,
            "name": "web",
            "active": True,
            "events": ["workflow_run"],
            "config": config,
            "updated_at": created,
            "created_at": created,
            "url": hook_api,
            "test_url": f"{hook_api}/test",
            "ping_url": f"{hook_api}/pings",
            "deliveries_url": f"{hook_api}/deliveries",
            "last_response": {"code": None, "status": "unused", "message": None},
        },
        "repository": webhook_repository(base, repository),
        "sender": user_object(repository.split("/", 1)[0], 9919),
    }
