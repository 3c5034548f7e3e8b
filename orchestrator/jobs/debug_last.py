"""/debug-last, answered by the worker from the trace store: only the caller's own traces, only to
them (the message is ephemeral)."""

from __future__ import annotations

from orchestrator.clients.discord_api import DiscordClient, DiscordRejected, InteractionExpired
from orchestrator.discord.outbound import Message
from orchestrator.jobs.envelopes import DebugRequest
from orchestrator.messages.debug_report import debug_report
from orchestrator.observability.logging import get_logger
from orchestrator.state.traces import TraceStore


def answer_debug_last(request: DebugRequest, traces: TraceStore, discord: DiscordClient) -> None:
    wanted = request.requested_trace_id
    trace = traces.find(request.user_id, wanted) if wanted else traces.latest(request.user_id)
    text = debug_report(trace, requested=wanted)
    try:
        discord.edit_original(request.interaction_token, Message(text).to_dict())
    except (InteractionExpired, DiscordRejected) as exc:
        get_logger().warning("could not show /debug-last", extra={"error": type(exc).__name__})
