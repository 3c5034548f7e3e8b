"""Every setting, declared once: its name, how it is read, its default, who needs it, whether it
is a secret, and what it is for.

`load_settings` reads the environment from these declarations, and `.env.example` and the
configuration reference (docs/configuration.md) are generated from them
(`python -m orchestrator_dev.settings_reference`; a test keeps both equal to this file).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from orchestrator.settings import parse
from orchestrator.state.audit import DEFAULT_AUDIT_RETENTION_DAYS, MAX_AUDIT_RETENTION_DAYS

DEFAULT_COMMANDS_FILE = Path(__file__).resolve().parent.parent.parent / "commands.yaml"
DEFAULT_LOCAL_STATE_STORE = "sqlite:///.orchestrator/state.db"


class Role(Enum):
    """What a process does decides which settings it cannot run without."""

    INTERACTIONS = "interactions"
    WORKER = "worker"
    REGISTRATION = "registration"  # `orchestrator register`: an operator's step, not part of the running bot
    WORKFLOWS = "workflows"  # `validate --remote --no-settings`: reads the workflow files, nothing else
    GATEWAY = "gateway"  # `orchestrator gateway`: Discord's websocket instead of a signed endpoint


# What the running bot needs (what `validate` and `serve` check by default).
BOT_ROLES = frozenset({Role.INTERACTIONS, Role.WORKER})

# A value computed when the variable is empty, from the environment and whether this is Lambda.
Fallback = Callable[[Mapping[str, str], bool], str]


@dataclass(frozen=True)
class Setting:
    name: str
    section: str
    doc: str  # what it is for, and where to find its value
    parse: parse.Parse  # text (stripped, not empty) -> value
    default: str = ""  # what an empty value means, as text; also .env.example's value
    fallback: Fallback | None = None  # a default computed at start instead (`default_doc` says which)
    default_doc: str = ""  # the default in words, where `default` alone would not say it
    required_by: frozenset[Role] = frozenset()
    required_in_lambda: str = ""  # why, when Lambda cannot run without it
    secret: bool = False  # never echoed; may come from SSM through <NAME>_PARAMETER
    read_on_use: bool = False  # a secret from SSM read when first needed, not at start
    field: str | None = ""  # the Settings attribute ("" = the lower-case name; None = read elsewhere)
    deployed: str = "not set (default)"  # where the deployed value comes from

    @property
    def attribute(self) -> str | None:
        return self.name.lower() if self.field == "" else self.field


def _state_store_fallback(env: Mapping[str, str], in_lambda: bool) -> str:
    table = env.get("STATE_TABLE", "").strip()
    return f"dynamodb://{table}" if in_lambda and table else DEFAULT_LOCAL_STATE_STORE


_EVERY_ROLE_THAT_TALKS_TO_DISCORD = frozenset({Role.INTERACTIONS, Role.WORKER, Role.REGISTRATION, Role.GATEWAY})

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DISCORD_PUBLIC_KEY",
        "Discord",
        "The application's Ed25519 public key, 64 hex characters (Developer Portal > your application "
        "> General Information > Public Key); every request's signature is checked with it. Not a secret.",
        parse.public_key,
        required_by=frozenset({Role.INTERACTIONS}),
        deployed="`DiscordPublicKey`, resolved from SSM at deploy time",
    ),
    Setting(
        "DISCORD_APPLICATION_ID",
        "Discord",
        "The application id (Developer Portal > General Information > Application ID, digits).",
        parse.snowflake(parse.SNOWFLAKE_RULE),
        required_by=_EVERY_ROLE_THAT_TALKS_TO_DISCORD,
        deployed="`DiscordApplicationId`",
    ),
    Setting(
        "DISCORD_BOT_TOKEN",
        "Discord",
        "The bot token (Developer Portal > Bot > Reset Token): alerts, messages that outlive the "
        "15-minute interaction token, registering commands, the gateway.",
        parse.token,
        default_doc="empty: alerts and late edits are skipped",
        required_by=frozenset({Role.REGISTRATION, Role.GATEWAY}),
        secret=True,
        deployed="from SSM through `DISCORD_BOT_TOKEN_PARAMETER` (`DiscordBotTokenParameter`)",
    ),
    Setting(
        "DISCORD_API_URL",
        "Discord",
        "Discord's REST base. Change only to point at a stand-in (the demo does).",
        parse.url("https://", "http://"),
        default="https://discord.com/api/v10",
    ),
    Setting(
        "DISCORD_GATEWAY_URL",
        "Discord",
        "`gateway` only: the websocket it connects to first (stand-ins, tests); a RESUME still goes "
        "where Discord says.",
        parse.url("wss://", "ws://"),
        default_doc="empty: Discord's own (discord.py's default)",
        deployed="not used",
    ),
    Setting(
        "GITHUB_TOKEN",
        "GitHub",
        "A token that may dispatch, read and re-run workflow runs in GITHUB_REPOSITORY (fine-grained: "
        "Actions read and write, Checks read for why a run failed, Contents read for the workflow files "
        "checked before each dispatch and the branches and tags suggested as you type, Metadata read). "
        "`register` needs it too when a command takes its options from its workflow.",
        parse.token,
        required_by=frozenset({Role.WORKER, Role.WORKFLOWS}),
        secret=True,
        deployed="from SSM through `GITHUB_TOKEN_PARAMETER` (`GitHubTokenParameter`)",
    ),
    Setting(
        "GITHUB_REPOSITORY",
        "GitHub",
        "`owner/repo` that holds the workflows.",
        parse.repository,
        required_by=frozenset({Role.WORKER, Role.WORKFLOWS}),
        deployed="`GitHubRepository`",
    ),
    Setting(
        "GITHUB_API_URL",
        "GitHub",
        "GitHub's REST base; for GitHub Enterprise Server use https://HOST/api/v3.",
        parse.url("https://", "http://"),
        default="https://api.github.com",
        deployed="`GitHubApiUrl`",
    ),
    Setting(
        "GITHUB_WEBHOOK_SECRET",
        "GitHub",
        "The `workflow_run` webhook's HMAC secret (16+ random characters), the same value as in the "
        "repository's webhook settings.",
        parse.signing_key,
        default_doc="empty: runs are followed by polling alone, and `POST /github/webhook` answers 503",
        secret=True,
        read_on_use=True,
        field="github_webhook_secret",
        deployed="from SSM through `GITHUB_WEBHOOK_SECRET_PARAMETER` (`GitHubWebhookSecretParameter`)",
    ),
    Setting(
        "BUTTON_SIGNING_SECRET",
        "Commands and state",
        "Signs the Confirm and Cancel buttons (16+ random characters).",
        parse.signing_key,
        default_doc="empty locally: a random key per process, so buttons stop working across restarts",
        required_in_lambda="signs Confirm and Cancel buttons",
        secret=True,
        read_on_use=True,
        field="button_secret",
        deployed="generated in Secrets Manager, read through `BUTTON_SIGNING_SECRET_PARAMETER`",
    ),
    Setting(
        "COMMANDS_FILE",
        "Commands and state",
        "Path of the commands file.",
        parse.existing_file,
        fallback=lambda env, in_lambda: str(DEFAULT_COMMANDS_FILE),
        default_doc="empty: the `commands.yaml` packaged beside the code",
        deployed="not set (the deployed package's `commands.yaml`)",
    ),
    Setting(
        "STATE_STORE",
        "Commands and state",
        "Where traces, idempotency keys, rate limits and the audit trail live: `memory://`, "
        "`sqlite:///relative/path`, `sqlite:////absolute/path` or `dynamodb://TABLE`.",
        parse.state_store,
        fallback=_state_store_fallback,
        default_doc=f"empty: `{DEFAULT_LOCAL_STATE_STORE}` locally, `dynamodb://$STATE_TABLE` in Lambda",
        deployed="not set",
    ),
    Setting(
        "STATE_TABLE",
        "Commands and state",
        "The DynamoDB table, used in Lambda when STATE_STORE is empty.",
        parse.text,
        field=None,
        deployed="the `StateTable` resource",
    ),
    Setting(
        "WORK_QUEUE_URL",
        "Commands and state",
        "The SQS queue the worker reads (and queues its own polls on). Unused locally.",
        parse.url("https://", "http://"),
        required_in_lambda="the SQS queue the worker reads",
        deployed="the `WorkQueue` resource",
    ),
    Setting(
        "ENABLE_DEBUG_CMD",
        "Features (off unless you turn them on)",
        "/debug-last: shows callers their own recent traces (ephemeral, redacted). Where you run "
        "`orchestrator register`, it also adds /debug-last to the commands Discord shows.",
        parse.flag,
        default="false",
        deployed="`EnableDebugCommand`",
    ),
    Setting(
        "ENABLE_ALERTS",
        "Features (off unless you turn them on)",
        "Alerts to a Discord channel: also needs ALERT_CHANNEL_ID and DISCORD_BOT_TOKEN.",
        parse.flag,
        default="false",
        deployed="`true` exactly when both `DiscordBotTokenParameter` and `AlertChannelId` are set",
    ),
    Setting(
        "ALERT_CHANNEL_ID",
        "Features (off unless you turn them on)",
        "The alerts channel's id (digits).",
        parse.snowflake(f"the alerts channel's id ({parse.SNOWFLAKE_RULE})"),
        default_doc="empty: alerts are skipped, with one warning",
        deployed="`AlertChannelId`",
    ),
    Setting(
        "ALERT_WINDOW_SECONDS",
        "Features (off unless you turn them on)",
        "Seconds during which repeats of one problem are counted, not posted.",
        parse.count(),
        default="300",
    ),
    Setting(
        "ALERT_RATE_PER_MINUTE",
        "Features (off unless you turn them on)",
        "Most alerts posted a minute, for the whole bot.",
        parse.count(),
        default="10",
    ),
    Setting(
        "POLL_LIMIT",
        "Limits",
        "How many times the worker polls one run before it stops updating the message (10 s doubling "
        "to 60 s: about 6 hours).",
        parse.count(),
        default="360",
    ),
    Setting(
        "WORKER_MAX_RECEIVES",
        "Limits",
        "Deliveries of one queue message before the worker treats it as the last one (tells the user, "
        "raises an alert). Keep equal to the queue's maxReceiveCount in template.yaml.",
        parse.count(),
        default="5",
        deployed="`5` in the template",
    ),
    Setting(
        "RATE_LIMIT_PER_MINUTE",
        "Limits",
        "Per-user rate limit (a token bucket): commands each user's bucket regains a minute. 0 turns the "
        "per-user limit off (a command's own rate_limit: in the commands file still applies).",
        parse.count(zero_allowed=True),
        default="10",
        deployed="`RateLimitPerMinute`",
    ),
    Setting(
        "RATE_LIMIT_BURST",
        "Limits",
        "Commands a user may run at once before that rate applies.",
        parse.count(),
        default="5",
        deployed="`RateLimitBurst`",
    ),
    Setting(
        "DISPATCH_RATE_PER_MINUTE",
        "Limits",
        "The whole bot's limit on starting runs, every user together (a token bucket): commands it may "
        "start a minute; 0 turns it off. It keeps the GitHub token below GitHub's 80 content-creating "
        "requests a minute; a command refused by it is told why.",
        parse.count(zero_allowed=True),
        default="60",
        deployed="`DispatchRatePerMinute`",
    ),
    Setting(
        "DISPATCH_BURST",
        "Limits",
        "Commands the whole bot may start at once before that rate applies.",
        parse.count(),
        default="20",
    ),
    Setting(
        "AUDIT_RETENTION_DAYS",
        "Limits",
        f"Days each audit event (a command attempt and its outcome) is kept in the state store "
        f"(DynamoDB TTL; at most {MAX_AUDIT_RETENTION_DAYS}).",
        parse.count(at_most=MAX_AUDIT_RETENTION_DAYS, limit_named="ten years"),
        default=str(DEFAULT_AUDIT_RETENTION_DAYS),
        deployed="`AuditRetentionDays`",
    ),
    Setting(
        "BREAKER_FAILURES",
        "Limits",
        "The worker's circuit breakers, one for GitHub and one for Discord: failed calls in a row "
        "(transport errors or 5xx; 4xx and 429 do not count) that open one.",
        parse.count(),
        default="5",
    ),
    Setting(
        "BREAKER_COOLDOWN_SECONDS",
        "Limits",
        "Seconds an open breaker fails every call at once before letting one probe through.",
        parse.count(),
        default="30",
    ),
    Setting(
        "FAILURE_LOG_MAX_BYTES",
        "Limits",
        "A failed run's digest (docs/failures.md): the most bytes of a failed job's log read looking for "
        "its first error (streamed, never held in memory).",
        parse.count(),
        default="20000000",
        deployed="`FailureLogMaxBytes`",
    ),
    Setting(
        "FAILURE_DIGEST_SECONDS",
        "Limits",
        "Seconds the whole digest may take before the final message edit goes out without what is still missing.",
        parse.count(),
        default="10",
        deployed="`FailureDigestSeconds`",
    ),
    Setting(
        "LOG_LEVEL",
        "Logging",
        "DEBUG, INFO, WARNING or ERROR.",
        parse.level,
        default="INFO",
        deployed="`LogLevel`",
    ),
    Setting(
        "POWERTOOLS_SERVICE_NAME",
        "Logging",
        "Powertools' service name; the bot's logs and metrics say orchestrator whatever it is.",
        parse.text,
        default="orchestrator",
        field=None,
        deployed="`orchestrator`",
    ),
    Setting(
        "POWERTOOLS_LOGGER_SAMPLE_RATE",
        "Logging",
        "Fraction (0 to 1) of invocations that log at DEBUG whatever LOG_LEVEL says.",
        parse.fraction,
        default="0",
        field=None,
        deployed="not set",
    ),
)

SETTINGS_BY_NAME: Mapping[str, Setting] = {setting.name: setting for setting in SETTINGS}
SECRETS: tuple[Setting, ...] = tuple(setting for setting in SETTINGS if setting.secret)
