"""Settings from the environment, validated once at start.

Every problem is reported at once, one line each, naming the setting and never
echoing a secret's value: an operator fixing a deployment should see the whole
list, not one error per restart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from orchestrator.observability.levels import LOG_LEVELS, log_level
from orchestrator.ratelimits.bucket import BucketRule
from orchestrator.state.audit import DEFAULT_AUDIT_RETENTION_DAYS, MAX_AUDIT_RETENTION_DAYS
from orchestrator.state.url import StateStoreUrlError, parse_state_store_url

DEFAULT_DISCORD_API_URL = "https://discord.com/api/v10"
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_COMMANDS_FILE = Path(__file__).resolve().parent.parent / "commands.yaml"
DEFAULT_LOCAL_STATE_STORE = "sqlite:///.orchestrator/state.db"

_SNOWFLAKE = re.compile(r"^[0-9]{15,21}$")
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

SECRET_NAMES = ("DISCORD_BOT_TOKEN", "GITHUB_TOKEN")
# Secrets the interactions function needs only for some requests (a webhook, a button press):
# read from SSM on first use, so its cold start makes no SSM call.
LAZY_SECRET_NAMES = ("GITHUB_WEBHOOK_SECRET", "BUTTON_SIGNING_SECRET")


# How every refusal of a Discord id says what one is.
SNOWFLAKE_RULE = "a Discord id: 15 to 21 digits"


def is_snowflake(value: str) -> bool:
    """A Discord id (user, role, channel, guild, application): 15 to 21 digits."""
    return bool(_SNOWFLAKE.match(value))


class SecretUnavailable(Exception):
    """A secret could not be read when first needed (its SSM parameter is missing or unreadable)."""


class LazySecret:
    """A secret given as a value, or as an SSM parameter name read once on first use."""

    def __init__(self, name: str, *, value: str | None, parameter: str | None, resolve: Callable[[str], str] | None):
        self.name = name
        self._value = value
        self._parameter = parameter
        self._resolve = resolve

    def __repr__(self) -> str:
        return f"LazySecret({self.name})"

    @property
    def plain_value(self) -> str | None:
        """The value when given directly (not yet read from SSM)."""
        return self._value

    def get(self) -> str:
        """The value; one from SSM is asked for again on every use, through the resolver's cache
        (Powertools Parameters, `max_age`), so a rotated secret is picked up without a restart.
        Once a value was read, a failed re-read keeps it rather than failing the request."""
        if self._parameter is None or self._resolve is None:
            if self._value is None:
                raise SecretUnavailable(f"{self.name} is not configured")
            return self._value
        try:
            value = self._resolve(self._parameter).strip()
        except Exception as exc:  # noqa: BLE001 - any failure: the caller answers "unavailable"
            if self._value is not None:
                return self._value
            raise SecretUnavailable(f"{self.name}: could not read SSM parameter ({type(exc).__name__})") from None
        if not value:
            if self._value is not None:
                return self._value
            raise SecretUnavailable(f"{self.name}: SSM parameter is empty")
        if value != self._value:
            from orchestrator.observability.redaction import active_redactor, install

            install(active_redactor().with_secrets([value]))  # redacted from here on, like the others
            self._value = value
        return value


class Role(Enum):
    """What a process does decides which settings it cannot run without."""

    INTERACTIONS = "interactions"
    WORKER = "worker"
    REGISTRATION = "registration"  # `orchestrator register`: an operator's step, not part of the running bot
    WORKFLOWS = "workflows"  # `validate --remote --no-settings`: reads the workflow files, nothing else
    GATEWAY = "gateway"  # `orchestrator gateway`: Discord's websocket instead of a signed endpoint


# What the running bot needs (what `validate` and `serve` check by default).
BOT_ROLES = frozenset({Role.INTERACTIONS, Role.WORKER})

_REQUIRED_BY_ROLE: dict[Role, tuple[str, ...]] = {
    Role.INTERACTIONS: ("DISCORD_PUBLIC_KEY", "DISCORD_APPLICATION_ID"),
    Role.WORKER: ("DISCORD_APPLICATION_ID", "GITHUB_TOKEN", "GITHUB_REPOSITORY"),
    Role.REGISTRATION: ("DISCORD_APPLICATION_ID", "DISCORD_BOT_TOKEN"),
    Role.WORKFLOWS: ("GITHUB_TOKEN", "GITHUB_REPOSITORY"),
    # No DISCORD_PUBLIC_KEY: nothing arrives signed over the gateway (the bot token authenticates it).
    Role.GATEWAY: ("DISCORD_APPLICATION_ID", "DISCORD_BOT_TOKEN"),
}


class SettingsError(Exception):
    """One or more settings are missing or malformed; `problems` has a line each."""

    def __init__(self, problems: list[str], secrets: list[str] | None = None) -> None:
        from orchestrator.observability.redaction import active_redactor

        # A problem may quote the value it is about, and a secret can be pasted into the wrong setting.
        redactor = active_redactor().with_secrets(secrets or [])
        problems = [redactor.text(problem) for problem in problems]
        super().__init__("invalid settings:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    discord_public_key: str
    discord_application_id: str
    discord_api_url: str
    github_repository: str
    github_api_url: str
    commands_file: Path
    state_store: str
    enable_debug_cmd: bool
    enable_alerts: bool
    alert_channel_id: str | None
    work_queue_url: str | None
    # Secrets are kept out of repr() so that printing settings can never leak them.
    discord_bot_token: str | None = field(default=None, repr=False)
    github_token: str = field(default="", repr=False)
    github_webhook_secret: LazySecret | None = None
    button_secret: LazySecret | None = None
    poll_limit: int = 360
    alert_window_seconds: int = 300
    alert_rate_per_minute: int = 10
    breaker_failures: int = 5
    breaker_cooldown_seconds: int = 30
    # Every user's bucket: `rate_limit_burst` commands at once, refilled at `rate_limit_per_minute`; 0 is off.
    rate_limit_per_minute: int = 10
    rate_limit_burst: int = 5
    audit_retention_days: int = DEFAULT_AUDIT_RETENTION_DAYS
    # The whole bot's dispatches: `dispatch_burst` at once, refilled at `dispatch_rate_per_minute`;
    # 0 is off. Below GitHub's 80 content-creating requests a minute for the token.
    dispatch_rate_per_minute: int = 60
    dispatch_burst: int = 20
    # A failed run's digest: the log is read up to this many bytes, the whole digest within this time.
    failure_log_max_bytes: int = 20_000_000
    failure_digest_seconds: int = 10
    log_level: str = "INFO"
    # The delivery the worker treats as a message's last; must equal the queue's maxReceiveCount.
    worker_max_receives: int = 5
    # GITHUB_TOKEN and DISCORD_BOT_TOKEN when they come from SSM: read again on use (see LazySecret).
    rotating: Mapping[str, LazySecret] = field(default_factory=dict, repr=False)
    # `gateway` connects here (stand-ins, tests); None: discord.py's default, Discord's own.
    discord_gateway_url: str | None = None

    def github_token_source(self) -> Callable[[], str]:
        return self._secret_source("GITHUB_TOKEN", self.github_token) or (lambda: "")

    def discord_bot_token_source(self) -> Callable[[], str] | None:
        return self._secret_source("DISCORD_BOT_TOKEN", self.discord_bot_token)

    def _secret_source(self, name: str, value: str | None) -> Callable[[], str] | None:
        """What to ask for the secret's current value: its SSM parameter again, or the value given."""
        secret = self.rotating.get(name)
        if secret is not None:
            return secret.get
        return (lambda: value) if value else None

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

    def secret_values(self) -> list[str]:
        """The configured secret values, for redaction."""
        lazy = [s.plain_value for s in (self.github_webhook_secret, self.button_secret) if s is not None]
        return [s for s in (self.discord_bot_token, self.github_token, *lazy) if s]


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    roles: Collection[Role] = BOT_ROLES,
    in_lambda: bool | None = None,
    resolve_secret: Callable[[str], str] | None = None,
) -> Settings:
    """Read and validate settings; raise SettingsError listing every problem.

    `resolve_secret` turns `<NAME>_PARAMETER` (an SSM parameter name, as the
    SAM template sets them) into the secret's value; it is only called when the
    plain variable is absent.
    """
    env = os.environ if env is None else env
    if in_lambda is None:
        in_lambda = "AWS_LAMBDA_FUNCTION_NAME" in env
    problems: list[str] = []

    from_ssm: dict[str, str] = {}  # setting -> the SSM parameter its value was read from

    def text(name: str) -> str | None:
        value = env.get(name, "").strip()
        if value:
            return value
        parameter = env.get(f"{name}_PARAMETER", "").strip()
        if parameter and resolve_secret is not None:
            try:
                resolved = resolve_secret(parameter).strip() or None
                if resolved is not None:
                    from_ssm[name] = parameter
                return resolved
            except Exception as exc:  # noqa: BLE001 - any failure becomes a settings problem
                problems.append(f"{name}: could not read SSM parameter {parameter!r} ({type(exc).__name__})")
        return None

    def flag(name: str) -> bool:
        given = env.get(name, "").strip()
        if given.lower() in _TRUE:
            return True
        if given.lower() not in _FALSE:
            problems.append(f"{name}: expected true or false, got {given!r}")
        return False

    required = {name for role in roles for name in _REQUIRED_BY_ROLE[role]}
    names = {name for role in Role for name in _REQUIRED_BY_ROLE[role]} | set(SECRET_NAMES)
    values = {name: text(name) for name in sorted(names)}
    for name in sorted(required):
        if values[name] is None:
            problems.append(f"{name}: required but not set")

    public_key = values["DISCORD_PUBLIC_KEY"] or ""
    if public_key and not _HEX_KEY.match(public_key):
        problems.append("DISCORD_PUBLIC_KEY: expected 64 hex characters (the application's Ed25519 public key)")
    application_id = values["DISCORD_APPLICATION_ID"] or ""
    if application_id and not is_snowflake(application_id):
        problems.append(f"DISCORD_APPLICATION_ID: expected {SNOWFLAKE_RULE}")
    repository = values["GITHUB_REPOSITORY"] or ""
    if repository and not _REPOSITORY.match(repository):
        problems.append(f"GITHUB_REPOSITORY: expected owner/repo, got {repository!r}")
    for name in SECRET_NAMES:
        secret = values[name]
        if secret is not None and any(c.isspace() for c in secret):
            problems.append(f"{name}: contains white space (a copy-paste error?)")

    discord_api_url = _url(env, "DISCORD_API_URL", DEFAULT_DISCORD_API_URL, problems)
    github_api_url = _url(env, "GITHUB_API_URL", DEFAULT_GITHUB_API_URL, problems)
    gateway_url = env.get("DISCORD_GATEWAY_URL", "").strip() or None
    if gateway_url is not None:
        gateway_url = _url(env, "DISCORD_GATEWAY_URL", gateway_url, problems, schemes=("wss://", "ws://"))

    commands_file = Path(env.get("COMMANDS_FILE", "").strip() or DEFAULT_COMMANDS_FILE)
    if not commands_file.is_file():
        problems.append(f"COMMANDS_FILE: no such file: {commands_file}")

    state_store = env.get("STATE_STORE", "").strip()
    if not state_store:
        table = env.get("STATE_TABLE", "").strip()
        state_store = f"dynamodb://{table}" if in_lambda and table else DEFAULT_LOCAL_STATE_STORE
    try:
        parse_state_store_url(state_store)
    except StateStoreUrlError as exc:
        problems.append(f"STATE_STORE: {exc}")

    enable_alerts = flag("ENABLE_ALERTS")
    alert_channel_id = env.get("ALERT_CHANNEL_ID", "").strip() or None
    if alert_channel_id and not is_snowflake(alert_channel_id):
        problems.append(f"ALERT_CHANNEL_ID: expected the alerts channel's id ({SNOWFLAKE_RULE})")
    alert_window = _positive_int(env, "ALERT_WINDOW_SECONDS", 300, problems)
    alert_rate = _positive_int(env, "ALERT_RATE_PER_MINUTE", 10, problems)
    enable_debug_cmd = flag("ENABLE_DEBUG_CMD")

    lazy: dict[str, LazySecret | None] = {}
    for name in LAZY_SECRET_NAMES:
        value = env.get(name, "").strip() or None
        # A value given directly wins over its parameter, as text() has it for every other setting.
        parameter = None if value else env.get(f"{name}_PARAMETER", "").strip() or None
        lazy[name] = (
            LazySecret(name, value=value, parameter=parameter, resolve=resolve_secret) if value or parameter else None
        )
        if value is not None and len(value) < 16:
            problems.append(f"{name}: too short: use at least 16 random characters")
    if in_lambda and lazy["BUTTON_SIGNING_SECRET"] is None:
        problems.append("BUTTON_SIGNING_SECRET: required in Lambda (signs Confirm and Cancel buttons)")
    poll_limit = _positive_int(env, "POLL_LIMIT", 360, problems)
    breaker_failures = _positive_int(env, "BREAKER_FAILURES", 5, problems)
    breaker_cooldown = _positive_int(env, "BREAKER_COOLDOWN_SECONDS", 30, problems)
    rate_per_minute = _positive_int(env, "RATE_LIMIT_PER_MINUTE", 10, problems, allow_zero=True)
    rate_burst = _positive_int(env, "RATE_LIMIT_BURST", 5, problems)
    audit_retention = _positive_int(env, "AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS, problems)
    if audit_retention > MAX_AUDIT_RETENTION_DAYS:
        problems.append(f"AUDIT_RETENTION_DAYS: at most {MAX_AUDIT_RETENTION_DAYS} (ten years), got {audit_retention}")
    dispatch_rate = _positive_int(env, "DISPATCH_RATE_PER_MINUTE", 60, problems, allow_zero=True)
    dispatch_burst = _positive_int(env, "DISPATCH_BURST", 20, problems)
    failure_log_max_bytes = _positive_int(env, "FAILURE_LOG_MAX_BYTES", 20_000_000, problems)
    failure_digest_seconds = _positive_int(env, "FAILURE_DIGEST_SECONDS", 10, problems)
    worker_max_receives = _positive_int(env, "WORKER_MAX_RECEIVES", 5, problems)
    level = log_level(env.get("LOG_LEVEL"))
    if level is None:
        # Not echoed: a value pasted into the wrong variable may be a secret.
        problems.append(f"LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}")

    work_queue_url = env.get("WORK_QUEUE_URL", "").strip() or None
    if in_lambda and not work_queue_url:
        problems.append("WORK_QUEUE_URL: required in Lambda (the SQS queue the worker reads)")

    rotating = {
        name: LazySecret(name, value=values[name], parameter=parameter, resolve=resolve_secret)
        for name, parameter in from_ssm.items()
        if name in SECRET_NAMES
    }

    if problems:
        secrets = [v for k, v in values.items() if k in SECRET_NAMES and v]
        secrets += [env.get(n, "") for n in LAZY_SECRET_NAMES if len(env.get(n, "")) >= 6]
        raise SettingsError(problems, secrets)
    return Settings(
        discord_public_key=public_key.lower(),
        discord_application_id=application_id,
        discord_api_url=discord_api_url,
        github_repository=repository,
        github_api_url=github_api_url,
        commands_file=commands_file,
        state_store=state_store,
        enable_debug_cmd=enable_debug_cmd,
        enable_alerts=enable_alerts,
        alert_channel_id=alert_channel_id,
        work_queue_url=work_queue_url,
        discord_bot_token=values["DISCORD_BOT_TOKEN"],
        github_token=values["GITHUB_TOKEN"] or "",
        github_webhook_secret=lazy["GITHUB_WEBHOOK_SECRET"],
        button_secret=lazy["BUTTON_SIGNING_SECRET"],
        poll_limit=poll_limit,
        alert_window_seconds=alert_window,
        alert_rate_per_minute=alert_rate,
        breaker_failures=breaker_failures,
        breaker_cooldown_seconds=breaker_cooldown,
        rate_limit_per_minute=rate_per_minute,
        rate_limit_burst=rate_burst,
        audit_retention_days=audit_retention,
        dispatch_rate_per_minute=dispatch_rate,
        dispatch_burst=dispatch_burst,
        failure_log_max_bytes=failure_log_max_bytes,
        failure_digest_seconds=failure_digest_seconds,
        log_level=level or "INFO",
        worker_max_receives=worker_max_receives,
        rotating=rotating,
        discord_gateway_url=gateway_url,
    )


def _positive_int(
    env: Mapping[str, str], name: str, default: int, problems: list[str], *, allow_zero: bool = False
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or (int(raw) == 0 and not allow_zero):
        kind = "whole number (0 or more)" if allow_zero else "positive whole number"
        problems.append(f"{name}: expected a {kind}, got {raw!r}")
        return default
    return int(raw)


def _url(
    env: Mapping[str, str],
    name: str,
    default: str,
    problems: list[str],
    *,
    schemes: tuple[str, ...] = ("https://", "http://"),
) -> str:
    value = (env.get(name, "").strip() or default).rstrip("/")
    if not value.startswith(schemes):
        problems.append(f"{name}: expected a URL starting {' or '.join(schemes)}")
    elif "@" in value.split("/", 3)[2]:
        # Credentials in a base URL would end up in logs and error messages.
        problems.append(f"{name}: must not contain credentials (user:password@host)")
    return value
