"""CloudWatch alarm notifications (through SNS) as alerts: ALARM raises, OK resolves."""

from __future__ import annotations

from orchestrator.alerts.model import Alert, Severity
from orchestrator.serialization import loads

# Alarms whose names say the bot cannot work at all are critical; others are errors.
_CRITICAL_WORDS = ("dlq", "deadletter", "dead-letter", "5xx", "errors")


def alarm_alert(sns_message: str) -> Alert | None:
    """The alert for one SNS message from CloudWatch; None for anything else (INSUFFICIENT_DATA,
    a message that is not an alarm)."""
    try:
        alarm = loads(sns_message)
    except ValueError:
        return None
    if not isinstance(alarm, dict) or not isinstance(alarm.get("AlarmName"), str):
        return None
    name, state = alarm["AlarmName"][:200], alarm.get("NewStateValue")
    reason = str(alarm.get("NewStateReason") or "")[:1500]
    if state == "OK":
        return Alert("resolved", f"alarm:{name}", f"{name} is OK again", reason or "The alarm returned to OK.")
    if state != "ALARM":
        return None
    severity: Severity = "critical" if any(word in name.lower() for word in _CRITICAL_WORDS) else "error"
    description = str(alarm.get("AlarmDescription") or "")[:500]
    cause = f"{description}\n{reason}".strip() if description else reason
    return Alert(severity, f"alarm:{name}", f"CloudWatch alarm {name}", cause or "The alarm fired.")
