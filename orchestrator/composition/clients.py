"""The API clients every process that talks to Discord builds the same way."""

from __future__ import annotations

import httpx

from orchestrator.clients.discord_api import DiscordClient
from orchestrator.settings import Settings


def discord_client(settings: Settings, http: httpx.Client) -> DiscordClient:
    """Discord's REST API as this application, with the bot token when there is one (asked on
    every channel call, so a rotated token is used at once)."""
    return DiscordClient(
        http,
        settings.discord_api_url,
        settings.discord_application_id,
        bot_token=settings.discord_bot_token_source(),
    )
