"""Settings: declared once (declared.py), read and checked at start (load.py), run with (model.py)."""

from orchestrator.settings.declared import (
    BOT_ROLES,
    DEFAULT_COMMANDS_FILE,
    DEFAULT_LOCAL_STATE_STORE,
    SECRETS,
    SETTINGS,
    Role,
    Setting,
)
from orchestrator.settings.load import load_settings
from orchestrator.settings.model import Settings, SettingsError
from orchestrator.settings.parse import SNOWFLAKE_RULE, is_snowflake
from orchestrator.settings.secret import Secret, SecretUnavailable

__all__ = [
    "BOT_ROLES",
    "DEFAULT_COMMANDS_FILE",
    "DEFAULT_LOCAL_STATE_STORE",
    "SECRETS",
    "SETTINGS",
    "SNOWFLAKE_RULE",
    "Role",
    "Secret",
    "SecretUnavailable",
    "Setting",
    "Settings",
    "SettingsError",
    "is_snowflake",
    "load_settings",
]
