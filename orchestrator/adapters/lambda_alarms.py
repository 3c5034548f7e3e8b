"""Lambda handler for the alerts topic: CloudWatch alarms (ALARM and OK) into the ops channel,
through the same deduplicated, rate-limited path as the bot's own alerts."""

from __future__ import annotations

import os
from typing import Any

import httpx
from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestrator.adapters.secrets import ssm_secret
from orchestrator.alerts.alarms import alarm_alert
from orchestrator.clients.retries import DEFAULT_TIMEOUT
from orchestrator.composition.clients import discord_client
from orchestrator.composition.worker import build_alerter
from orchestrator.observability.logging import configure_logging
from orchestrator.observability.metrics import EmfMetrics
from orchestrator.observability.setup import install_redactor
from orchestrator.settings import Role, load_settings
from orchestrator.state.store import open_state_store

logger = configure_logging("alarms", level=os.environ.get("LOG_LEVEL", "INFO"))
settings = load_settings(roles={Role.INTERACTIONS}, resolve_secret=ssm_secret)
install_redactor(settings)
alerter = build_alerter(
    settings,
    open_state_store(settings.state_store).alerts,
    discord_client(settings, httpx.Client(timeout=DEFAULT_TIMEOUT)),
    EmfMetrics(),
)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    posted = 0
    for record in event.get("Records") or []:
        message = (record.get("Sns") or {}).get("Message") if isinstance(record, dict) else None
        alert = alarm_alert(message) if isinstance(message, str) else None
        if alert is None:
            logger.info("SNS message is not an alarm state change we report: ignored")
            continue
        posted += alerter.raise_alert(alert)
    return {"posted": posted}
