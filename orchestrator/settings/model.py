"""The validated settings a process runs with (built by `load_settings`, from settings/declared.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestrator.ratelimits.bucket import BucketRule
from orchestrator.settings.secret import Secret


class SettingsError(Exception):
    """One or more settings are missing or malformed; `problems` has a line each."""

    def __init__(self, problems: list[str], secrets: list[str] | None = None) -> None:
        from orchestrator.observability.redaction import Redactor

        # A problem may quote the value it is about, and a secret can be pasted into the wrong setting:
        # the built-in token shapes and the secrets given are taken out (no process-wide state needed).
        redactor = Redactor(secrets=secrets or [])
        problems = [redactor.text(problem) for problem in problems]
        super().__init__("invalid settings:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    """One attribute per declared setting (no defaults here: the declarations hold them)."""

    # A setting some role requires is "" where this process's roles do not need it.
    discord_public_key: str
    discord_application_id: str
    discord_bot_token: Secret | None
    discord_api_url: str
    discord_gateway_url: str | None  # None: discord.py's default, Discord's own
    github_token: Secret | None
    github_repository: str
    github_api_url: str
    github_webhook_secret: Secret | None
    button_secret: Secret | None
    commands_file: Path
    state_store: str
    work_queue_url: str | None
    enable_debug_cmd: bool
    enable_alerts: bool
    alert_channel_id: str | None
    alert_window_seconds: int
    alert_rate_per_minute: int
    poll_limit: int
    # The delivery the worker treats as a message's last; must equal the queue's maxReceiveCount.
    worker_max_receives: int
    # Every user's bucket: `rate_limit_burst` commands at once, refilled at `rate_limit_per_minute`; 0 is off.
    rate_limit_per_minute: int
    rate_limit_burst: int
    # The whole bot's dispatches: `dispatch_burst` at once, refilled at `dispatch_rate_per_minute`;
    # 0 is off. Below GitHub's 80 content-creating requests a minute for the token.
    dispatch_rate_per_minute: int
    dispatch_burst: int
    audit_retention_days: int
    breaker_failures: int
    breaker_cooldown_seconds: int
    # A failed run's digest: the log is read up to this many bytes, the whole digest within this time.
    failure_log_max_bytes: int
    failure_digest_seconds: int
    log_level: str

    def secrets(self) -> Iterator[Secret]:
        """Every secret configured, whichever the declarations mark as secrets."""
        from orchestrator.settings.declared import SECRETS  # declared imports nothing of this module

        for setting in SECRETS:
            secret = getattr(self, setting.attribute or "")
            if secret is not None:
                yield secret

    def secret_values(self) -> list[str]:
        """The secret values known so far, for redaction."""
        return [value for secret in self.secrets() if (value := secret.known_value)]

    def github_token_source(self) -> Callable[[], str]:
        return self.github_token.get if self.github_token is not None else (lambda: "")

    def discord_bot_token_source(self) -> Callable[[], str] | None:
        return self.discord_bot_token.get if self.discord_bot_token is not None else None

    def bot_rate_limit(self) -> BucketRule | None:
        if self.dispatch_rate_per_minute == 0:
            return None
        return BucketRule(float(self.dispatch_rate_per_minute), self.dispatch_burst)

    def user_rate_limit(self) -> BucketRule | None:
        if self.rate_limit_per_minute == 0:
            return None
        return BucketRule(float(self.rate_limit_per_minute), self.rate_limit_burst)

    def alert_problems(self) -> list[str]:
        """Why alerts, though enabled, cannot be posted (not fatal: they are skipped, with a warning)."""
        if not self.enable_alerts:
            return []
        missing = [
            name
            for name, value in (
                ("ALERT_CHANNEL_ID", self.alert_channel_id),
                ("DISCORD_BOT_TOKEN", self.discord_bot_token),
            )
            if not value
        ]
        return [f"{name}: required when ENABLE_ALERTS is true (alerts are skipped until it is set)" for name in missing]
