"""Who the bot is, as /users/@me and /applications/@me answer (the bot token's user, and its application)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def bot_user(author: Mapping[str, Any]) -> dict[str, Any]:
    """/users/@me: the bot's user (`author`: the user its messages carry), with the fields only it sees."""
    return {
        **author,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "collectibles": None,
        "mfa_enabled": False,
        "locale": "en-US",
        "premium_type": 0,
        "email": None,
        "verified": True,
    }


def application_object(
    author: Mapping[str, Any],
    *,
    application_id: str,
    owner_id: str,
    verify_key: str,
    interactions_endpoint_url: str | None,
    guild_count: int,
) -> dict[str, Any]:
    """/applications/@me: the bot's application, owned by a made-up user."""
    owner = {**author, "id": owner_id, "username": "owner", "discriminator": "0", "bot": False}
    return {
        "id": application_id,
        "name": author["username"],
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "hook": True,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": verify_key,
        "flags": 0,
        "flags_new": "0",
        "bot": dict(author),
        "owner": owner,
        "team": None,
        "redirect_uris": [],
        "rpc_origins": [],
        "tags": [],
        "interactions_endpoint_url": interactions_endpoint_url,
        "role_connections_verification_url": None,
        "event_webhooks_url": None,
        "event_webhooks_status": 1,
        "event_webhooks_types": [],
        "approximate_guild_count": guild_count,
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "eligible_oauth2_scopes": [],
        "integration_types_config": {"0": {}},
    }
