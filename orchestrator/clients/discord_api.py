"""Discord REST: edit the user's deferred message through the interaction webhook."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from orchestrator import __version__
from orchestrator.clients.retries import RetryPolicy, json_object, send
from orchestrator.observability.redaction import active_redactor

# Editing a message to the same content twice is harmless, so 5xx and lost answers are retried.
EDIT_POLICY = RetryPolicy(idempotent=True)


class DiscordError(Exception):
    """Base for Discord failures; messages never contain tokens (they sit in webhook URLs)."""


class InteractionExpired(DiscordError):
    """404 on the interaction webhook: the 15-minute token is gone. Never retried."""


class DiscordRejected(DiscordError):
    def __init__(self, status: int, code: object) -> None:
        super().__init__(f"Discord answered {status} (code {code})")
        self.status = status


class DiscordUnavailable(DiscordError):
    """5xx, rate limited for longer than we wait, or unreachable, after retries."""


class DiscordClient:
    def __init__(self, http: httpx.Client, api_url: str, application_id: str) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")
        self._application_id = application_id
        http.headers.update({"User-Agent": f"DiscordBot (orchestrator, {__version__})"})

    def edit_original(self, interaction_token: str, message: dict[str, Any]) -> None:
        url = f"{self._api_url}/webhooks/{self._application_id}/{quote(interaction_token, safe='')}/messages/@original"
        # Whatever a message says (a GitHub error, an option's value), it leaves without secrets.
        body = active_redactor().value(message)
        try:
            response = send(self._http, "PATCH", url, json_body=body, policy=EDIT_POLICY)
        except httpx.TransportError as exc:
            raise DiscordUnavailable(type(exc).__name__) from None
        if response.status_code == 404:
            raise InteractionExpired("interaction webhook answered 404")
        if response.status_code == 429 or response.status_code >= 500:
            raise DiscordUnavailable(f"Discord answered {response.status_code}")
        if response.status_code >= 400:
            raise DiscordRejected(response.status_code, json_object(response).get("code"))
