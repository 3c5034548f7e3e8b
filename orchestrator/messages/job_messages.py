"""What the user's deferred message becomes once the worker knows the outcome."""

from __future__ import annotations

from typing import Any

from orchestrator.commands.model import OptionValue
from orchestrator.discord.components import ActionRow, LinkButton, is_linkable
from orchestrator.discord.outbound import Message
from orchestrator.dispatch.outcome import DispatchOutcome
from orchestrator.messages import limits
from orchestrator.messages.markdown import clip_escaped
from orchestrator.observability.redaction import active_redactor
from orchestrator.observability.trace_ids import trace_fingerprint

BLURPLE = 0x5865F2
RED = 0xED4245
YELLOW = 0xFEE75C


def outcome_message(
    command: str, options: dict[str, OptionValue], outcome: DispatchOutcome, trace_id: str
) -> dict[str, Any]:
    if outcome.kind == "dispatched":
        title, color = f"/{command} · started", BLURPLE
        description = "The workflow run is queued on GitHub."
        if outcome.detail:
            description = outcome.detail
    elif outcome.kind == "rejected":
        title, color = f"/{command} · not started", RED
        description = outcome.detail or "GitHub did not start the workflow."
    else:
        title, color = f"/{command} · unknown", YELLOW
        description = outcome.detail or "It is not known whether the workflow started."
    embed: dict[str, Any] = {
        "title": limits.clip(title, limits.EMBED_TITLE),
        "description": limits.fit_lines(description, limits.EMBED_DESCRIPTION),
        "color": color,
        "footer": {"text": f"trace {trace_fingerprint(trace_id)}"},
    }
    fields = option_fields(options, embed)
    if fields:
        embed["fields"] = fields
    rows = None
    url = outcome.html_url
    if url and is_linkable(url):
        embed["url"] = url
        label = f"View run #{outcome.run_id} on GitHub" if outcome.run_id else "View run on GitHub"
        rows = (ActionRow((LinkButton(label, url),)),)
    return Message(embeds=(embed,), components=rows).to_dict()


def option_fields(options: dict[str, OptionValue], embed: dict[str, Any]) -> list[dict[str, Any]]:
    """The user's options as inline fields, sharing what the embed's 6,000 characters leave."""
    shown = list(options.items())[: limits.EMBED_FIELDS]
    if not shown:
        return []
    used = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    used += sum(len(name) for name, _ in shown)
    per_value = max(1, min(limits.FIELD_VALUE, (limits.EMBEDS_TOTAL - used) // len(shown)))
    return [
        # Redacted before it is cut (half a secret would no longer be recognised as one), escaped
        # after, on whole characters: shown as typed, never as a link or formatting.
        {"name": name, "value": clip_escaped(active_redactor().text(str(value)), per_value) or "\u200b", "inline": True}
        for name, value in shown
    ]
