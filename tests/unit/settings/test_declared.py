"""The declarations are the one place a setting's default is decided: the defaults domain code
falls back on when built without settings, and the template's parameter defaults, agree with them."""

from __future__ import annotations

from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from orchestrator.alerts import alerter
from orchestrator.clients import breaker
from orchestrator.failures import builder
from orchestrator.observability import levels
from orchestrator.runs import polling
from orchestrator.settings import SETTINGS, Secret, SettingsError, load_settings
from orchestrator.settings.declared import SETTINGS_BY_NAME
from orchestrator.state import audit
from tests.conftest import REPO_ROOT


def declared_default(name: str) -> Any:
    setting = SETTINGS_BY_NAME[name]
    return setting.parse(setting.default)


@pytest.mark.parametrize(
    ("name", "domain_default"),
    [
        ("POLL_LIMIT", polling.DEFAULT_POLL_LIMIT),
        ("BREAKER_FAILURES", breaker.DEFAULT_FAILURES),
        ("BREAKER_COOLDOWN_SECONDS", breaker.DEFAULT_COOLDOWN_SECONDS),
        ("ALERT_WINDOW_SECONDS", alerter.DEFAULT_WINDOW_SECONDS),
        ("ALERT_RATE_PER_MINUTE", alerter.DEFAULT_PER_MINUTE),
        ("FAILURE_LOG_MAX_BYTES", builder.DEFAULT_MAX_LOG_BYTES),
        ("FAILURE_DIGEST_SECONDS", builder.DEFAULT_BUDGET_SECONDS),
        ("AUDIT_RETENTION_DAYS", audit.DEFAULT_AUDIT_RETENTION_DAYS),
        ("LOG_LEVEL", levels.DEFAULT_LOG_LEVEL),
    ],
)
def test_domain_defaults_are_the_declared_ones(name: str, domain_default: object) -> None:
    assert declared_default(name) == domain_default


def test_template_parameter_defaults_are_the_declared_ones() -> None:
    """Where the template passes a parameter straight into a setting, its default is the setting's."""
    template = yaml_parse((REPO_ROOT / "template.yaml").read_text(encoding="utf-8"))
    parameters = template["Parameters"]
    blocks = [template["Globals"]["Function"]["Environment"]["Variables"]]
    blocks += [
        resource["Properties"].get("Environment", {}).get("Variables", {})
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    compared = 0
    for variables in blocks:
        for name, value in variables.items():
            parameter = parameters.get(value.get("Ref")) if isinstance(value, dict) else None
            setting = SETTINGS_BY_NAME.get(name)
            if parameter is None or "Default" not in parameter or setting is None or not setting.default:
                continue
            assert setting.parse(str(parameter["Default"])) == declared_default(name), name
            compared += 1
    assert compared >= 6  # LOG_LEVEL, ENABLE_DEBUG_CMD, the rate limits, the audit and digest settings


def test_every_setting_is_an_attribute_or_says_who_reads_it() -> None:
    loaded = load_settings({}, roles=(), in_lambda=False)
    attributes = {setting.attribute for setting in SETTINGS if setting.attribute is not None}
    assert attributes == set(vars(loaded))
    assert {setting.name for setting in SETTINGS if setting.attribute is None} == {
        "STATE_TABLE",  # only chooses STATE_STORE's default
        "POWERTOOLS_SERVICE_NAME",  # read by Powertools
        "POWERTOOLS_LOGGER_SAMPLE_RATE",
    }


def test_secrets_are_one_type_whatever_their_source() -> None:
    env = {
        "DISCORD_BOT_TOKEN": "MTk.given-directly",
        "GITHUB_TOKEN_PARAMETER": "/orchestrator/github-token",
        "GITHUB_WEBHOOK_SECRET_PARAMETER": "/orchestrator/webhook",
        "BUTTON_SIGNING_SECRET": "b" * 32,
    }
    read: list[str] = []

    def resolve(parameter: str) -> str:
        read.append(parameter)
        return f"value-of-{parameter.rsplit('/', 1)[-1]}-0123456789"

    loaded = load_settings(env, roles=(), in_lambda=False, resolve_secret=resolve)
    secrets = [loaded.discord_bot_token, loaded.github_token, loaded.github_webhook_secret, loaded.button_secret]
    assert all(isinstance(secret, Secret) for secret in secrets)
    assert read == ["/orchestrator/github-token"]  # the webhook secret is read on first use
    assert loaded.github_webhook_secret is not None and loaded.github_webhook_secret.known_value is None
    assert loaded.github_webhook_secret.get() == "value-of-webhook-0123456789"
    assert all("value" not in repr(secret) for secret in secrets)


def test_a_new_secret_value_is_told_to_its_watchers() -> None:
    """Settings know nothing of logging: the adapter's redactor subscribes to rotated values."""
    values = iter(["first-value-0123456789", "rotated-value-0123456789", "rotated-value-0123456789"])
    loaded = load_settings(
        {"GITHUB_TOKEN_PARAMETER": "/t"}, roles=(), in_lambda=False, resolve_secret=lambda _: next(values)
    )
    assert loaded.github_token is not None
    told: list[str] = []
    loaded.github_token.watch(told.append)
    assert loaded.github_token.get() == "rotated-value-0123456789"
    assert loaded.github_token.get() == "rotated-value-0123456789"
    assert told == ["rotated-value-0123456789"]


def test_a_malformed_value_that_may_be_a_secret_is_not_echoed() -> None:
    pasted = "Zq9xPLm3vT7wK2rBzz-not-a-rate"
    with pytest.raises(SettingsError) as caught:
        load_settings({"POWERTOOLS_LOGGER_SAMPLE_RATE": pasted}, roles=(), in_lambda=False)
    assert caught.value.problems == ["POWERTOOLS_LOGGER_SAMPLE_RATE: expected a number from 0 to 1"]
