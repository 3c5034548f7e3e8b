"""An alert as a Discord message: within Discord's limits, redacted, with a place to start."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from orchestrator.alerts.model import ICONS, Alert
from orchestrator.discord.components import ActionRow, LinkButton
from orchestrator.discord.outbound import Message
from orchestrator.messages import limits
from orchestrator.observability.queries import trace_query
from orchestrator.observability.redaction import active_redactor
from orchestrator.observability.trace_ids import trace_fingerprint

COLORS = {"critical": 0xED4245, "error": 0xE67E22, "warning": 0xFEE75C, "resolved": 0x57F287}


def logs_insights_url(region: str | None, log_group: str | None, trace_id: str | None) -> str | None:
    """A CloudWatch Logs Insights link with the query for this trace id filled in."""
    if not (region and log_group and trace_id):
        return None
    try:
        query = trace_query(trace_id)
    except ValueError:
        return None
    # The console's own URL encoding: '*' for '%' inside the fragment, '~' for structure.
    encoded = quote(query, safe="").replace("%", "*")
    group = quote(log_group, safe="").replace("%", "*")
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logsV2:logs-insights"
        f"$3FqueryDetail$3D~(end~0~start~-86400~timeType~'RELATIVE~unit~'seconds~editorString~'{encoded}"
        f"~source~(~'{group}))"
    )


def alert_message(
    alert: Alert, *, suppressed: int = 0, since: float | None = None, insights: str | None = None
) -> dict[str, Any]:
    redact = active_redactor().text
    lines = [redact(alert.cause)]
    if insights:
        lines.append(f"\n[Logs for this trace]({insights})")
    if suppressed and since is not None:
        when = datetime.fromtimestamp(since, UTC).strftime("%H:%M UTC")
        lines.append(f"\n{suppressed} more since {when} (suppressed as the same problem).")
    fields: list[dict[str, Any]] = [
        {"name": "trace", "value": f"`{trace_fingerprint(alert.trace_id)}`", "inline": True},
    ]
    if alert.command:
        fields.append(
            {"name": "command", "value": limits.clip(f"/{alert.command}", limits.FIELD_VALUE), "inline": True}
        )
    if alert.user_name:
        fields.append(
            {"name": "user", "value": limits.clip(redact(alert.user_name), limits.FIELD_VALUE), "inline": True}
        )
    embed: dict[str, Any] = {
        "title": limits.clip(
            f"{ICONS[alert.severity]} {alert.severity.upper()} · {redact(alert.title)}", limits.EMBED_TITLE
        ),
        "description": limits.fit_lines("\n".join(lines), 2000),
        "color": COLORS[alert.severity],
        "fields": fields,
        "footer": {"text": limits.clip(f"source: {alert.source}", limits.FOOTER)},
    }
    buttons = [("GitHub run", alert.run_url), *alert.links]
    row = [
        LinkButton(limits.clip(label, limits.BUTTON_LABEL), url)
        for label, url in buttons
        if url and url.startswith("https://") and len(url) <= limits.URL
    ][:5]
    return Message(embeds=(embed,), components=(ActionRow(tuple(row)),) if row else None).to_dict()
