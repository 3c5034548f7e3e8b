from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.settings import Role, SettingsError, load_settings

PUBLIC_KEY = "a" * 64


def base_env(commands_file: Path) -> dict[str, str]:
    return {
        "DISCORD_PUBLIC_KEY": PUBLIC_KEY,
        "DISCORD_APPLICATION_ID": "111111111111111111",
        "GITHUB_TOKEN": "ghp_" + "x" * 36,
        "GITHUB_REPOSITORY": "acme/delivery",
        "COMMANDS_FILE": str(commands_file),
    }


def test_defaults(commands_file: Path) -> None:
    settings = load_settings(base_env(commands_file), in_lambda=False)
    assert settings.discord_api_url == "https://discord.com/api/v10"
    assert settings.github_api_url == "https://api.github.com"
    assert settings.state_store.startswith("sqlite:///")
    assert settings.enable_alerts is False
    assert settings.enable_debug_cmd is False


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    env = {
        "DISCORD_PUBLIC_KEY": "not-hex",
        "DISCORD_APPLICATION_ID": "abc",
        "GITHUB_REPOSITORY": "no-slash",
        "COMMANDS_FILE": str(tmp_path / "missing.yaml"),
        "STATE_STORE": "redis://x",
        "ENABLE_ALERTS": "maybe",
        "DISCORD_API_URL": "ftp://discord",
    }
    with pytest.raises(SettingsError) as caught:
        load_settings(env, in_lambda=False)
    names = [problem.split(":")[0] for problem in caught.value.problems]
    for name in (
        "DISCORD_PUBLIC_KEY",
        "DISCORD_APPLICATION_ID",
        "GITHUB_REPOSITORY",
        "GITHUB_TOKEN",
        "COMMANDS_FILE",
        "STATE_STORE",
        "ENABLE_ALERTS",
        "DISCORD_API_URL",
    ):
        assert name in names


def test_secret_values_are_never_echoed(commands_file: Path) -> None:
    env = base_env(commands_file) | {"GITHUB_TOKEN": "ghp_secret value", "DISCORD_BOT_TOKEN": "bot token!"}
    with pytest.raises(SettingsError) as caught:
        load_settings(env, in_lambda=False)
    text = str(caught.value)
    assert "GITHUB_TOKEN" in text and "DISCORD_BOT_TOKEN" in text
    assert "secret value" not in text and "bot token!" not in text


def test_repr_hides_secrets(commands_file: Path) -> None:
    settings = load_settings(base_env(commands_file) | {"DISCORD_BOT_TOKEN": "MTk.abc.def"}, in_lambda=False)
    assert "ghp_" not in repr(settings) and "MTk.abc.def" not in repr(settings)
    assert set(settings.secret_values()) == {"ghp_" + "x" * 36, "MTk.abc.def"}


def test_roles_decide_what_is_required(commands_file: Path) -> None:
    env = {"DISCORD_PUBLIC_KEY": PUBLIC_KEY, "DISCORD_APPLICATION_ID": "111111111111111111"}
    env["COMMANDS_FILE"] = str(commands_file)
    settings = load_settings(env, roles={Role.INTERACTIONS}, in_lambda=False)
    assert settings.github_token is None
    with pytest.raises(SettingsError, match="GITHUB_TOKEN"):
        load_settings(env, roles={Role.WORKER}, in_lambda=False)


def test_lambda_defaults_and_requirements(commands_file: Path) -> None:
    env = base_env(commands_file) | {"STATE_TABLE": "orchestrator-state", "BUTTON_SIGNING_SECRET": "b" * 32}
    with pytest.raises(SettingsError, match="WORK_QUEUE_URL"):
        load_settings(env, roles={Role.INTERACTIONS}, in_lambda=True)
    settings = load_settings(env | {"WORK_QUEUE_URL": "https://sqs/q"}, in_lambda=True)
    assert settings.state_store == "dynamodb://orchestrator-state"


def test_secrets_from_ssm_parameters(commands_file: Path) -> None:
    env = base_env(commands_file)
    del env["GITHUB_TOKEN"]
    env["GITHUB_TOKEN_PARAMETER"] = "/orchestrator/github-token"
    asked: list[str] = []

    def resolve(name: str) -> str:
        asked.append(name)
        return "ghp_from_ssm"

    settings = load_settings(env, in_lambda=False, resolve_secret=resolve)
    assert settings.github_token is not None and settings.github_token.known_value == "ghp_from_ssm"
    assert asked == ["/orchestrator/github-token"]


def test_unreadable_ssm_parameter_is_a_clear_problem(commands_file: Path) -> None:
    env = base_env(commands_file)
    del env["GITHUB_TOKEN"]
    env["GITHUB_TOKEN_PARAMETER"] = "/missing"

    def resolve(name: str) -> str:
        raise LookupError("ParameterNotFound")

    with pytest.raises(SettingsError) as caught:
        load_settings(env, in_lambda=False, resolve_secret=resolve)
    assert any("GITHUB_TOKEN: could not read SSM parameter '/missing'" in p for p in caught.value.problems)


@pytest.mark.parametrize("value", ["https://bob:hunter2@api.github.com", "https://x:y@discord.com/api"])
def test_credentials_in_base_urls_are_refused(commands_file: Path, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(base_env(commands_file) | {"GITHUB_API_URL": value}, in_lambda=False)
    credentials = value.split("//")[1].split("@", maxsplit=1)[0]
    assert "must not contain credentials" in str(caught.value)
    assert credentials not in str(caught.value)


def test_alerts_without_a_channel_or_bot_token_are_skipped_not_fatal(commands_file: Path) -> None:
    settings = load_settings(base_env(commands_file) | {"ENABLE_ALERTS": "true"}, in_lambda=False)
    assert [p.split(":")[0] for p in settings.alert_problems()] == ["ALERT_CHANNEL_ID", "DISCORD_BOT_TOKEN"]
    assert load_settings(base_env(commands_file), in_lambda=False).alert_problems() == []


@pytest.mark.parametrize("name", ["LOG_LEVEL", "WORKER_MAX_RECEIVES"])
def test_log_level_and_max_receives_are_checked_with_the_rest(commands_file: Path, name: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**base_env(commands_file), name: "lots"})
    assert any(problem.startswith(f"{name}: expected") for problem in raised.value.problems)


def test_log_level_and_max_receives_are_read(commands_file: Path) -> None:
    settings = load_settings({**base_env(commands_file), "LOG_LEVEL": " debug ", "WORKER_MAX_RECEIVES": "7"})
    assert (settings.log_level, settings.worker_max_receives) == ("DEBUG", 7)


def test_audit_retention_is_at_most_ten_years(commands_file: Path) -> None:
    assert load_settings({**base_env(commands_file), "AUDIT_RETENTION_DAYS": "3650"}).audit_retention_days == 3650
    with pytest.raises(SettingsError) as raised:
        load_settings({**base_env(commands_file), "AUDIT_RETENTION_DAYS": "3651"})
    assert "AUDIT_RETENTION_DAYS: at most 3650 (ten years), got 3651" in raised.value.problems
