"""Discord's refusals of a registration, as lines an operator can act on."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from orchestrator.clients.discord_api import DiscordRejected

INVALID_FORM_BODY = 50035


def explain_rejection(exc: DiscordRejected, *, guild_id: str | None, body: list[dict[str, Any]]) -> list[str]:
    """The first line says what is wrong and what to do; a 400 lists each refused field after it."""
    said = f" ({exc.message})" if exc.message else ""
    if exc.status == 401:
        return ["Discord refused the bot token (401 Unauthorized): check DISCORD_BOT_TOKEN (Developer Portal > Bot)"]
    if exc.status == 403 and guild_id is not None:
        return [
            f"Discord answered 403 for guild {guild_id}{said}: the bot is not in that server, or was added "
            "without the applications.commands scope; invite it again with the bot and applications.commands scopes"
        ]
    if exc.status == 403:
        return [f"Discord answered 403{said}: DISCORD_APPLICATION_ID must be the id of the bot token's application"]
    if exc.status == 404:
        where = "DISCORD_APPLICATION_ID and --guild" if guild_id is not None else "DISCORD_APPLICATION_ID"
        return [f"Discord answered 404{said}: check {where}"]
    if exc.status == 400 and (exc.code == INVALID_FORM_BODY or exc.errors):
        fields = [f"  {where}: {message} ({code})" for where, code, message in _field_errors(exc.errors, body)]
        return [f"Discord refused the commands (400{said}); fix the commands file:", *fields]
    return [f"Discord answered {exc.status} (code {exc.code}){said}"]


def _field_errors(tree: Mapping[str, Any], body: list[dict[str, Any]]) -> Iterator[tuple[str, str, str]]:
    """(where, code, message) for each leaf of Discord's nested errors; `where` names commands and options."""

    def walk(node: Mapping[str, Any], path: tuple[str, ...]) -> Iterator[tuple[str, str, str]]:
        for error in node.get("_errors") or []:
            if isinstance(error, Mapping):
                yield _where(path, body), str(error.get("code", "")), str(error.get("message", ""))
        for key, child in node.items():
            if key != "_errors" and isinstance(child, Mapping):
                yield from walk(child, (*path, key))

    return walk(tree, ())


def _where(path: tuple[str, ...], body: list[dict[str, Any]]) -> str:
    """`0.options.1.name` as `/deploy.options[version].name`, with the names from the body sent."""
    value: Any = body
    where = "commands"
    for key in path:
        item = value[int(key)] if isinstance(value, list) and key.isdigit() and int(key) < len(value) else None
        name = item.get("name") if isinstance(item, Mapping) else None
        if isinstance(name, str):
            where = f"/{name}" if value is body else f"{where}[{name}]"
        elif key.isdigit():
            where = f"{where}[{key}]"
        else:
            where = f"{where}.{key}"
        value = item if item is not None else (value.get(key) if isinstance(value, Mapping) else None)
    return where
