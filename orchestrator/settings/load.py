"""Settings from the environment, validated once at start, from the declarations.

Every problem is reported at once, one line each, naming the setting and never echoing a
secret's value: an operator fixing a deployment should see the whole list, not one error per
restart.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from typing import Any

from orchestrator.settings.declared import BOT_ROLES, SETTINGS, Role, Setting
from orchestrator.settings.model import Settings, SettingsError
from orchestrator.settings.parse import Invalid
from orchestrator.settings.secret import Secret


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    roles: Collection[Role] = BOT_ROLES,
    in_lambda: bool | None = None,
    resolve_secret: Callable[[str], str] | None = None,
) -> Settings:
    """Read and validate settings; raise SettingsError listing every problem.

    `resolve_secret` turns `<NAME>_PARAMETER` (an SSM parameter name, as the SAM template sets
    them) into the secret's value; it is asked only when the plain variable is empty. Secrets
    declared `read_on_use` are not read here but on first use.
    """
    env = os.environ if env is None else env
    if in_lambda is None:
        in_lambda = "AWS_LAMBDA_FUNCTION_NAME" in env
    reading = _Reading(env, in_lambda, resolve_secret)
    for setting in SETTINGS:
        reading.read(setting, needed=bool(setting.required_by & set(roles)))
    if reading.problems:
        raise SettingsError(reading.problems, reading.secret_texts())
    return Settings(**reading.values)


class _Reading:
    """One pass over the declarations: each setting's value, or a problem naming it."""

    def __init__(self, env: Mapping[str, str], in_lambda: bool, resolve: Callable[[str], str] | None) -> None:
        self.env = env
        self.in_lambda = in_lambda
        self.resolve = resolve
        self.problems: list[str] = []
        self.values: dict[str, Any] = {}
        self._secret_texts: list[str] = []

    def read(self, setting: Setting, *, needed: bool) -> None:
        raw = self.env.get(setting.name, "").strip()
        problems_before = len(self.problems)
        value = self._secret(setting, raw) if setting.secret else self._plain(setting, raw)
        if value is None and len(self.problems) == problems_before:  # one problem per setting is enough
            if needed:
                self.problems.append(f"{setting.name}: required but not set")
            elif setting.required_in_lambda and self.in_lambda:
                self.problems.append(f"{setting.name}: required in Lambda ({setting.required_in_lambda})")
        if setting.attribute is not None:
            unneeded_text = value is None and setting.required_by and not setting.secret
            self.values[setting.attribute] = "" if unneeded_text else value

    def secret_texts(self) -> list[str]:
        """What to take out of the problems: every secret value seen (shorter ones are no secret)."""
        return [text for text in self._secret_texts if len(text) >= 6]

    def _plain(self, setting: Setting, raw: str) -> Any:
        if not raw:
            raw = setting.fallback(self.env, self.in_lambda) if setting.fallback else setting.default
        return self._parsed(setting, raw) if raw else None

    def _parsed(self, setting: Setting, raw: str) -> Any:
        try:
            return setting.parse(raw)
        except Invalid as exc:
            self.problems.append(f"{setting.name}: {exc}")
            return None

    def _secret(self, setting: Setting, raw: str) -> Secret | None:
        parameter = "" if raw else self.env.get(f"{setting.name}_PARAMETER", "").strip()
        if raw:
            self._secret_texts.append(raw)
            return Secret(setting.name, value=raw) if self._parsed(setting, raw) is not None else None
        if not parameter:
            return None
        if setting.read_on_use:
            return Secret(setting.name, value=None, parameter=parameter, resolve=self.resolve)
        if self.resolve is None:
            return None
        try:
            value = self.resolve(parameter).strip()
        except Exception as exc:  # noqa: BLE001 - any failure becomes a settings problem
            self.problems.append(f"{setting.name}: could not read SSM parameter {parameter!r} ({type(exc).__name__})")
            return None
        if not value:
            return None
        self._secret_texts.append(value)
        if self._parsed(setting, value) is None:
            return None
        return Secret(setting.name, value=value, parameter=parameter, resolve=self.resolve)
