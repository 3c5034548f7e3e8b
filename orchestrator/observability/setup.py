"""Wire the process's redactor from its settings, once, at start."""

from __future__ import annotations

from orchestrator.commands.model import CommandSet
from orchestrator.observability.redaction import Redactor, active_redactor, install
from orchestrator.settings import Settings


def install_redactor(settings: Settings, commands: CommandSet | None = None) -> Redactor:
    """Built-in shapes, the configured secrets' own values, and the operator's named patterns; a
    secret read later (from SSM, on first use or rotated) is added when it is read."""
    redactor = Redactor(secrets=settings.secret_values(), extra_patterns=commands.redact_patterns if commands else None)
    install(redactor)
    for secret in settings.secrets():
        secret.watch(_redact_from_now_on)
    return redactor


def _redact_from_now_on(value: str) -> None:
    install(active_redactor().with_secrets([value]))
