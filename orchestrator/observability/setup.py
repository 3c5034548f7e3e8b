"""Wire the process's redactor from its settings, once, at start."""

from __future__ import annotations

from orchestrator.commands.model import CommandSet
from orchestrator.observability.redaction import Redactor, install
from orchestrator.settings import Settings


def install_redactor(settings: Settings, commands: CommandSet) -> Redactor:
    """Built-in shapes, the configured secrets' own values, and the operator's named patterns."""
    redactor = Redactor(secrets=settings.secret_values(), extra_patterns=commands.redact_patterns)
    install(redactor)
    return redactor
