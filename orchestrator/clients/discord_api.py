"""Discord REST: the user's deferred message (interaction webhook), channel posts, application commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from orchestrator import __version__
from orchestrator.clients.auth import HeaderAuth
from orchestrator.clients.retries import RetryPolicy, json_object, retry_after_seconds, send
from orchestrator.observability.redaction import active_redactor

# Editing a message to the same content twice is harmless, so 5xx and lost answers are retried;
# creating one is not (a lost answer may hide a message that was posted).
EDIT_POLICY = RetryPolicy(idempotent=True)
CREATE_POLICY = RetryPolicy(idempotent=False)
# Listing commands is a read, and a bulk overwrite sent twice leaves the same set: both are retried.
COMMANDS_POLICY = RetryPolicy(idempotent=True)
# The answer to a gateway interaction: due within Discord's 3 seconds, so short waits, and no retry
# of an answer that may have arrived (a read timeout); a copy that did is refused with 40060.
CALLBACK_POLICY = RetryPolicy(max_attempts=2, max_wait_seconds=0.5, base_backoff_seconds=0.1, idempotent=False)
ALREADY_ACKNOWLEDGED = 40060


class DiscordError(Exception):
    """Base for Discord failures; messages never contain tokens (they sit in webhook URLs)."""


class InteractionExpired(DiscordError):
    """404: the 15-minute interaction token is gone (or the message was deleted). Never retried."""


class DiscordRejected(DiscordError):
    """4xx. `message` is Discord's own text; `errors` its per-field tree of a 50035 "Invalid Form Body"."""

    def __init__(self, status: int, code: object, message: str = "", errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"Discord answered {status} (code {code})")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or {}


class DiscordUnavailable(DiscordError):
    """5xx, rate limited for longer than we wait, or unreachable, after retries."""


class DiscordNotConfigured(DiscordError):
    """The channel path needs DISCORD_BOT_TOKEN, which is not set."""


class DiscordClient:
    def __init__(
        self,
        http: httpx.Client,
        api_url: str,
        application_id: str,
        bot_token: str | Callable[[], str] | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """`bot_token` may be a callable, asked on every channel call: a rotated token is used at once."""
        self._http = http
        self._sleep = sleep  # waits between retries (backoff, Retry-After); None: time.sleep
        self._api_url = api_url.rstrip("/")
        self._application_id = application_id
        self._bot_auth = HeaderAuth("Bot", bot_token) if bot_token is not None else None
        http.headers.update({"User-Agent": f"DiscordBot (orchestrator, {__version__})"})

    @property
    def can_post_in_channels(self) -> bool:
        return self._bot_auth is not None

    def _webhook(self, interaction_token: str) -> str:
        return f"{self._api_url}/webhooks/{self._application_id}/{quote(interaction_token, safe='')}"

    def edit_original(self, interaction_token: str, message: dict[str, Any]) -> str | None:
        """Edit the interaction's own message; returns its id."""
        return self._call("PATCH", f"{self._webhook(interaction_token)}/messages/@original", message, EDIT_POLICY)

    def create_followup(self, interaction_token: str, message: dict[str, Any]) -> str | None:
        """A new message under the interaction (a retry could post it twice, so none is made)."""
        return self._call("POST", self._webhook(interaction_token), message, CREATE_POLICY)

    def edit_followup(self, interaction_token: str, message_id: str, message: dict[str, Any]) -> None:
        self._call("PATCH", f"{self._webhook(interaction_token)}/messages/{message_id}", message, EDIT_POLICY)

    def post_in_channel(self, channel_id: str, message: dict[str, Any], *, reply_to: str | None = None) -> str | None:
        """Post with the bot token (after the interaction token's 15 minutes, and for alerts)."""
        if reply_to:
            message = {**message, "message_reference": {"message_id": reply_to, "fail_if_not_exists": False}}
        return self._call("POST", f"{self._api_url}/channels/{channel_id}/messages", message, CREATE_POLICY, bot=True)

    def edit_in_channel(self, channel_id: str, message_id: str, message: dict[str, Any]) -> None:
        url = f"{self._api_url}/channels/{channel_id}/messages/{message_id}"
        self._call("PATCH", url, message, EDIT_POLICY, bot=True)

    def interaction_callback(
        self, interaction_id: str, interaction_token: str, answer: dict[str, Any], *, timeout: float
    ) -> None:
        """Answer an interaction that came over the gateway (an HTTP one is answered in the response),
        each attempt within `timeout` seconds (what is left of Discord's 3)."""
        url = f"{self._api_url}/interactions/{interaction_id}/{quote(interaction_token, safe='')}/callback"
        response = self._send("POST", url, active_redactor().value(answer), CALLBACK_POLICY, bot=False, timeout=timeout)
        if response.status_code == 400 and json_object(response).get("code") == ALREADY_ACKNOWLEDGED:
            return  # an earlier attempt's answer arrived
        if response.status_code == 404:
            raise InteractionExpired("Discord answered 404 (the interaction is over its 3 seconds, or unknown)")
        if response.status_code == 429 or response.status_code >= 500:
            raise DiscordUnavailable(f"Discord answered {response.status_code}")
        if response.status_code >= 400:
            raise _rejection(response)

    def current_application(self) -> dict[str, Any]:
        """The application as Discord has it (bot token): its `interactions_endpoint_url`, for one."""
        response = self._send("GET", f"{self._api_url}/applications/@me", None, COMMANDS_POLICY, bot=True)
        if response.status_code >= 400:
            raise _rejection(response)
        return json_object(response)

    def list_application_commands(self, guild_id: str | None = None) -> list[dict[str, Any]]:
        """The commands registered now: in one guild, or global ones when `guild_id` is None."""
        return self._commands_call("GET", self.commands_url(guild_id), None)

    def bulk_overwrite_application_commands(
        self, commands: list[dict[str, Any]], guild_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Replace the whole set (Discord's bulk PUT); returns the commands as Discord now has them."""
        return self._commands_call("PUT", self.commands_url(guild_id), commands)

    def commands_url(self, guild_id: str | None = None) -> str:
        """Where the application's commands live: one guild's, or the global ones."""
        scope = f"/guilds/{guild_id}" if guild_id is not None else ""
        return f"{self._api_url}/applications/{self._application_id}{scope}/commands"

    def _commands_call(self, method: str, url: str, body: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        # Sent as given, not redacted like messages: the operator sees this exact body in a dry run.
        response = self._send(method, url, body, COMMANDS_POLICY, bot=True)
        if response.status_code == 429:
            wait = retry_after_seconds(response)
            raise DiscordUnavailable(f"rate limited for {wait:.0f} s" if wait is not None else "rate limited")
        if response.status_code >= 500:
            raise DiscordUnavailable(f"Discord answered {response.status_code}")
        if response.status_code >= 400:
            raise _rejection(response)
        try:
            commands = response.json()
        except ValueError:
            commands = None
        if not isinstance(commands, list):
            raise DiscordUnavailable(f"Discord answered {response.status_code} without a list of commands")
        return [command for command in commands if isinstance(command, dict)]

    def _send(
        self,
        method: str,
        url: str,
        body: object | None,
        policy: RetryPolicy,
        *,
        bot: bool,
        timeout: float | None = None,
    ) -> httpx.Response:
        headers = None
        if bot:
            if self._bot_auth is None:
                raise DiscordNotConfigured("DISCORD_BOT_TOKEN is not set")
            headers = {"Authorization": self._bot_auth.value()}
        try:
            return send(
                self._http,
                method,
                url,
                json_body=body,
                headers=headers,
                policy=policy,
                sleep=self._sleep,
                timeout=timeout,
            )
        except httpx.TransportError as exc:
            raise DiscordUnavailable(type(exc).__name__) from None

    def _call(
        self, method: str, url: str, message: dict[str, Any], policy: RetryPolicy, *, bot: bool = False
    ) -> str | None:
        # Whatever a message says (a GitHub error, an option's value), it leaves without secrets.
        response = self._send(method, url, active_redactor().value(message), policy, bot=bot)
        if response.status_code == 404:
            raise InteractionExpired("Discord answered 404 (expired interaction token or deleted message)")
        if response.status_code == 429 or response.status_code >= 500:
            raise DiscordUnavailable(f"Discord answered {response.status_code}")
        if response.status_code >= 400:
            raise DiscordRejected(response.status_code, json_object(response).get("code"))
        message_id = json_object(response).get("id")
        return message_id if isinstance(message_id, str) else None


def _rejection(response: httpx.Response) -> DiscordRejected:
    """A 4xx as Discord words it: its code, message and per-field errors."""
    answer = json_object(response)
    message, errors = answer.get("message"), answer.get("errors")
    return DiscordRejected(
        response.status_code,
        answer.get("code"),
        message if isinstance(message, str) else "",
        errors if isinstance(errors, dict) else None,
    )
