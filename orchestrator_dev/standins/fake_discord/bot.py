"""The routes the bot token opens: channel messages (alerts), who the bot is, and its application
commands (registration)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from orchestrator_dev.standins.fake_commands import command_form_errors, overwrite
from orchestrator_dev.standins.fake_discord.identity import application_object, bot_user
from orchestrator_dev.standins.fake_discord.messages import (
    MISSING_ACCESS,
    UNAUTHORIZED,
    body_problem,
    int_flags,
    replace_by_id,
)
from orchestrator_dev.standins.fake_discord.state import (
    MESSAGE_DEFAULT,
    MESSAGE_REPLY,
    DiscordState,
)
from orchestrator_dev.standins.form_errors import INVALID_FORM_BODY
from orchestrator_dev.standins.http_standin import Request, Response


class BotRoutes(DiscordState):
    """The stand-in's channel message, identity and application command routes."""

    def registered_commands(self, guild_id: str | None = None) -> list[dict[str, Any]]:
        """The application commands as Discord holds them: one guild's, or the global ones."""
        with self._state:
            return copy.deepcopy(self._commands.get(guild_id, []))

    def _on_channel_message(self, request: Request, params: dict[str, str]) -> Response:
        if not self._bot_authorized(request):
            return Response(401, UNAUTHORIZED)
        problem = body_problem(request, new_message=True)
        if problem is not None:
            return problem
        channel_id = params["channel_id"]
        reference = request.json.get("message_reference")
        kind = MESSAGE_REPLY if isinstance(reference, dict) else MESSAGE_DEFAULT
        message = self._message(channel_id, kind, request.json, int_flags(request.json), webhook=False)
        if kind == MESSAGE_REPLY:
            message["message_reference"] = {"type": 0, "channel_id": channel_id, **copy.deepcopy(reference)}
        with self._state:
            self._channels.setdefault(channel_id, []).append(message)
        return Response(200, copy.deepcopy(message))

    def _on_edit_channel_message(self, request: Request, params: dict[str, str]) -> Response:
        if not self._bot_authorized(request):
            return Response(401, UNAUTHORIZED)
        problem = body_problem(request)
        if problem is not None:
            return problem
        with self._state:
            return replace_by_id(self._channels.get(params["channel_id"], []), params["message_id"], request.json)

    def _on_get_me(self, request: Request, params: dict[str, str]) -> Response:
        if not self._identity_authorized(request):
            return Response(401, UNAUTHORIZED)
        return Response(200, bot_user(self._author))

    def _on_get_application(self, request: Request, params: dict[str, str]) -> Response:
        if not self._identity_authorized(request):
            return Response(401, UNAUTHORIZED)
        application = application_object(
            self._author,
            application_id=self.application_id,
            owner_id=self._owner_id,
            verify_key=self.verify_key,
            interactions_endpoint_url=self.interactions_endpoint_url,
            guild_count=len(self.guilds),
        )
        return Response(200, application)

    def _on_list_commands(self, request: Request, params: dict[str, str]) -> Response:
        refused = self._commands_refused(request, params)
        if refused is not None:
            return refused
        return Response(200, self.registered_commands(params.get("guild_id")))

    def _on_overwrite_commands(self, request: Request, params: dict[str, str]) -> Response:
        refused = self._commands_refused(request, params)
        if refused is not None:
            return refused
        errors = command_form_errors(request.json)
        if errors:
            return Response(400, {**INVALID_FORM_BODY, "errors": errors})
        guild_id = params.get("guild_id")
        with self._state:
            self._commands[guild_id] = overwrite(
                self._commands.get(guild_id, []), request.json, application_id=self.application_id, guild_id=guild_id
            )
            return Response(200, copy.deepcopy(self._commands[guild_id]))

    def _commands_refused(self, request: Request, params: Mapping[str, str]) -> Response | None:
        """401 for a wrong bot token; 403 for another application, or a server the bot cannot register in."""
        if not self._bot_authorized(request):
            return Response(401, UNAUTHORIZED)
        guild_id = params.get("guild_id")
        if params["application_id"] != self.application_id or (guild_id is not None and guild_id not in self.guilds):
            return Response(403, MISSING_ACCESS)
        return None
