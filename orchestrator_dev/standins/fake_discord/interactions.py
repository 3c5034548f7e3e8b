"""The interaction routes: the bot's callback (its first answer), then the interaction webhook's
original message and follow-ups, usable while the token lives."""

from __future__ import annotations

import copy
from typing import Any

from orchestrator.discord.wire import EPHEMERAL
from orchestrator_dev.standins.fake_discord.messages import (
    ALREADY_ACKNOWLEDGED,
    EMPTY_MESSAGE,
    INVALID_JSON,
    LOADING,
    UNKNOWN_WEBHOOK,
    body_problem,
    edited,
    int_flags,
    message_problem,
    replace_by_id,
)
from orchestrator_dev.standins.fake_discord.state import (
    APPLICATION_COMMAND,
    DEFAULT_CHANNEL,
    MESSAGE_DEFAULT,
    DiscordState,
    Expected,
)
from orchestrator_dev.standins.form_errors import INVALID_FORM_BODY, FormErrors
from orchestrator_dev.standins.http_standin import Request, Response

# Interaction callback types (POST /interactions/{id}/{token}/callback).
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
CALLBACK_TYPES: tuple[int, ...] = (
    PONG,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    UPDATE_MESSAGE,
    AUTOCOMPLETE_RESULT,
    MODAL,
)


class InteractionRoutes(DiscordState):
    """The stand-in's interaction callback and webhook routes."""

    def _on_interaction_callback(self, request: Request, params: dict[str, str]) -> Response:
        """The bot's answer to an interaction: 204, or 200 with what it created under `?with_response=true`."""
        interaction_id, token, body = params["interaction_id"], params["token"], request.json
        with self._state:
            self._callbacks.append((interaction_id, token, copy.deepcopy(body)))
            if not isinstance(body, dict):
                return Response(400, INVALID_JSON)
            kind = body.get("type")
            if isinstance(kind, bool) or kind not in CALLBACK_TYPES:
                errors = FormErrors()
                choices = ", ".join(str(t) for t in CALLBACK_TYPES)
                errors.add(("type",), "BASE_TYPE_CHOICES", f"Value must be one of ({choices}).")
                return Response(400, {**INVALID_FORM_BODY, "errors": errors.tree})
            raw_data = body.get("data")
            data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
            if kind == CHANNEL_MESSAGE:
                problem = message_problem(data, new_message=True)
                if problem is not None:
                    return problem
            if interaction_id in self._acknowledged:
                return Response(400, ALREADY_ACKNOWLEDGED)
            self._acknowledged.add(interaction_id)
            expected = self._expected.get(interaction_id, Expected(token, DEFAULT_CHANNEL, APPLICATION_COMMAND))
            ephemeral = int_flags(data) & EPHEMERAL
            opened = None
            if kind == DEFERRED_CHANNEL_MESSAGE:
                opened = self._opened(expected.channel_id, {"content": ""}, LOADING | ephemeral)
            elif kind == CHANNEL_MESSAGE:
                opened = self._opened(expected.channel_id, data, ephemeral)
            if opened is not None:
                self._interactions[token] = opened
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return Response(204)
        answer: dict[str, Any] = {"id": interaction_id, "type": expected.interaction_type}
        if expected.channel_id != DEFAULT_CHANNEL:
            answer["channel_id"] = expected.channel_id
        if opened is not None:
            message = opened.history[-1]
            answer.update(
                response_message_id=message["id"],
                response_message_loading=kind == DEFERRED_CHANNEL_MESSAGE,
                response_message_ephemeral=bool(ephemeral),
            )
        result: dict[str, Any] = {"interaction": answer}
        if kind == CHANNEL_MESSAGE and opened is not None:
            result["resource"] = {"type": CHANNEL_MESSAGE, "message": copy.deepcopy(opened.history[-1])}
        return Response(200, result)

    def _on_edit_original(self, request: Request, params: dict[str, str]) -> Response:
        with self._state:
            interaction = self._live_interaction(params)
            if interaction is None:
                return Response(404, UNKNOWN_WEBHOOK)
            problem = body_problem(request)
            if problem is not None:
                return problem
            merged = edited(interaction.history[-1], request.json)
            if merged is None:
                return Response(400, EMPTY_MESSAGE)
            interaction.history.append(merged)
            return Response(200, copy.deepcopy(merged))

    def _on_followup(self, request: Request, params: dict[str, str]) -> Response:
        with self._state:
            interaction = self._live_interaction(params)
            if interaction is None:
                return Response(404, UNKNOWN_WEBHOOK)
            problem = body_problem(request, new_message=True)
            if problem is not None:
                return problem
            flags = EPHEMERAL if int_flags(request.json) & EPHEMERAL else 0
            message = self._message(interaction.channel_id, MESSAGE_DEFAULT, request.json, flags, webhook=True)
            interaction.followups.append(message)
            return Response(200, copy.deepcopy(message))

    def _on_edit_followup(self, request: Request, params: dict[str, str]) -> Response:
        with self._state:
            interaction = self._live_interaction(params)
            if interaction is None:
                return Response(404, UNKNOWN_WEBHOOK)
            problem = body_problem(request)
            if problem is not None:
                return problem
            return replace_by_id(interaction.followups, params["message_id"], request.json)
