"""RUNBOOK.md and .env.example keep up with the code: every setting, subcommand, template parameter
and alarm that exists is documented, and .env.example is a file a shell can load.

The names are read from the code and the template, never listed here, so a new setting or alarm
fails these tests until the operator docs describe it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from orchestrator import settings
from orchestrator.cli import main
from orchestrator_dev import settings_reference as reference
from tests.conftest import REPO_ROOT

RUNBOOK = REPO_ROOT / "RUNBOOK.md"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
REFERENCE = REPO_ROOT / "docs" / "configuration.md"
REGENERATE = "out of date: run python -m orchestrator_dev.settings_reference"
TEMPLATE = REPO_ROOT / "template.yaml"
PACKAGE = REPO_ROOT / "orchestrator"

_VARIABLE_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_ENVIRON_READ = re.compile(r"""os\.(?:environ\.get\(|environ\[|getenv\()\s*["']([A-Z][A-Z0-9_]*)["']""")
_ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def _provided_by_lambda(name: str) -> bool:
    """Lambda's reserved variables (AWS_REGION, AWS_LAMBDA_FUNCTION_NAME, _X_AMZN_TRACE_ID, ...)."""
    return name.startswith(("AWS_", "_"))


def settings_variables() -> set[str]:
    """What load_settings reads: every declared setting, plus the `<NAME>_PARAMETER` form of each secret."""
    names = {setting.name for setting in settings.SETTINGS}
    names |= {f"{setting.name}_PARAMETER" for setting in settings.SECRETS}
    return names


def package_variables() -> set[str]:
    """Variables read straight from os.environ elsewhere in the package (LOG_LEVEL, WORKER_MAX_RECEIVES, ...)."""
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        names |= set(_ENVIRON_READ.findall(path.read_text(encoding="utf-8")))
    return {name for name in names if not _provided_by_lambda(name)}


def template() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    return parsed


def template_variables() -> set[str]:
    """The environment variables the template gives any function."""
    doc = template()
    blocks = [doc.get("Globals", {}).get("Function", {}).get("Environment", {})]
    blocks += [
        resource.get("Properties", {}).get("Environment", {})
        for resource in doc["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    return {name for block in blocks for name in block.get("Variables", {})}


def alarm_names() -> set[str]:
    return {name for name, resource in template()["Resources"].items() if resource["Type"] == "AWS::CloudWatch::Alarm"}


def subcommands() -> set[str]:
    """The subcommands `python -m orchestrator --help` offers, whichever module defines them."""
    help_text = io.StringIO()
    with contextlib.redirect_stdout(help_text), pytest.raises(SystemExit):
        main(["--help"])
    choices = re.search(r"\{([a-z0-9_,-]+)\}", help_text.getvalue())
    assert choices, f"no subcommands in the help text:\n{help_text.getvalue()}"
    return set(choices.group(1).split(","))


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        assert match, f".env.example line {number} is neither a comment nor NAME=value: {line!r}"
        values[match.group(1)] = match.group(2)
    return values


def runbook() -> str:
    return RUNBOOK.read_text(encoding="utf-8")


def runbook_headings() -> list[str]:
    """The Markdown headings, not the shell comments inside code blocks."""
    headings, in_code = [], False
    for line in runbook().splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"#{1,6} ", line):
            headings.append(line)
    return headings


def not_mentioned(names: set[str], text: str) -> list[str]:
    return sorted(name for name in names if not re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text))


def test_the_name_finders_see_the_known_names() -> None:
    """Guard against a finder that silently finds nothing (every check below would pass)."""
    assert {"DISCORD_PUBLIC_KEY", "POLL_LIMIT", "ENABLE_ALERTS", "GITHUB_TOKEN_PARAMETER"} <= settings_variables()
    assert {"WORKER_MAX_RECEIVES", "LOG_LEVEL"} <= settings_variables()  # read and checked with the rest
    assert "AWS_LAMBDA_FUNCTION_NAME" not in settings_variables()
    assert "LOG_LEVEL" in package_variables()  # the logger's level, set before settings are read
    assert {"WorkerErrorsAlarm", "DeadLetterAlarm"} <= alarm_names()
    assert {"STATE_TABLE", "WORK_QUEUE_URL"} <= template_variables()
    assert {"serve", "demo", "validate"} <= subcommands()


def test_every_setting_is_in_env_example() -> None:
    missing = sorted((settings_variables() | package_variables()) - set(env_example()))
    assert not missing, f".env.example has no NAME= line for: {', '.join(missing)}"


def test_every_variable_read_or_set_is_a_declared_setting() -> None:
    """Whatever the package reads from the environment or the template sets is declared, so the
    generated .env.example and configuration reference describe it."""
    undeclared = sorted((package_variables() | template_variables()) - settings_variables())
    assert not undeclared, f"declare these in orchestrator/settings/declared.py: {', '.join(undeclared)}"


def test_the_generated_settings_files_are_current() -> None:
    assert ENV_EXAMPLE.read_text(encoding="utf-8") == reference.env_example(), REGENERATE
    text = REFERENCE.read_text(encoding="utf-8")
    assert reference.BEGIN in text and reference.END in text
    assert text == reference.reference(text), REGENERATE


def test_the_runbook_points_at_the_configuration_reference() -> None:
    assert "docs/configuration.md" in runbook()


def test_every_subcommand_is_in_the_runbook() -> None:
    text = runbook()
    missing = sorted(name for name in subcommands() if not re.search(rf"orchestrator {re.escape(name)}\b", text))
    assert not missing, f"RUNBOOK.md never shows `orchestrator <subcommand>` for: {', '.join(missing)}"


def test_every_template_parameter_is_in_the_runbook() -> None:
    missing = not_mentioned(set(template()["Parameters"]), runbook())
    assert not missing, f"RUNBOOK.md does not mention these template parameters: {', '.join(missing)}"


def test_every_alarm_has_a_runbook_section() -> None:
    headings = runbook_headings()
    missing = sorted(name for name in alarm_names() if not any(re.search(rf"\b{name}\b", h) for h in headings))
    assert not missing, f"RUNBOOK.md has no section (a heading naming the alarm) for: {', '.join(missing)}"


def test_runbook_sections_the_template_refers_to_exist() -> None:
    headings = "\n".join(runbook_headings())
    referred = set(re.findall(r'RUNBOOK "([^"]+)"', TEMPLATE.read_text(encoding="utf-8")))
    missing = sorted(title for title in referred if title not in headings)
    assert not missing, f"template.yaml refers to RUNBOOK sections that do not exist: {', '.join(missing)}"


def test_env_example_leaves_every_secret_empty() -> None:
    values = env_example()
    filled = sorted(setting.name for setting in settings.SECRETS if values.get(setting.name))
    assert not filled, f".env.example must not hold secret values: {', '.join(filled)}"


def test_env_example_defaults_are_valid_settings() -> None:
    """Its values pass validation as they are (only the required ids and tokens are left to fill in)."""
    settings.load_settings(env_example(), roles=(), in_lambda=False)


def test_a_shell_loads_env_example_to_the_same_values() -> None:
    result = subprocess.run(
        ["sh", "-c", "set -eu; set -a; . ./.env.example; env"],
        cwd=REPO_ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    exported = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    expected = env_example()
    differ = sorted(name for name, value in expected.items() if exported.get(name) != value)
    assert not differ, f"the shell reads these differently from NAME=value: {', '.join(differ)}"


def test_every_name_a_runbook_command_uses_is_the_templates() -> None:
    """The RUNBOOK's shell commands name resources (res X, sam logs -n X), outputs (out X), log
    groups and parameters (Name=value): each must be what the template declares, or the command
    fails just when an operator needs it."""
    declared = template()
    text = runbook()
    resources = set(declared["Resources"])
    named = set(re.findall(r"\bres ([A-Z][A-Za-z0-9]+)", text)) | set(re.findall(r"-n ([A-Z][A-Za-z0-9]+)", text))
    assert named and not sorted(named - resources), sorted(named - resources)
    outputs = set(re.findall(r"\bout ([A-Z][A-Za-z0-9]+)", text))
    assert outputs and outputs <= set(declared["Outputs"]), sorted(outputs - set(declared["Outputs"]))
    overrides = set(re.findall(r"--parameter-overrides ([A-Za-z0-9]+)=", text)) - {"Name"}  # the placeholder
    assert overrides <= set(declared["Parameters"]), sorted(overrides - set(declared["Parameters"]))
    # Log groups are the stack's own (LoggingConfig), never Lambda's default /aws/lambda/<function name>.
    assert "/aws/lambda/$(res" not in text
    for resource in ("InteractionsLogGroup", "WorkerLogGroup", "AlarmLogGroup"):
        assert declared["Resources"][resource]["Type"] == "AWS::Logs::LogGroup"


def shell_commands(text: str) -> list[str]:
    """Each command line, continuation lines (ending in a backslash) joined to it."""
    return re.sub(r"\\\n\s*", " ", text).splitlines()


def stack_derived_names() -> set[str]:
    """The names the template builds from the stack's, as the RUNBOOK writes them: `$STACK-worker`,
    `/aws/lambda/$STACK-worker`, `$STACK/slowest-acks`."""
    names: set[str] = set()
    pending: list[Any] = [template()]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            sub = node.get("Fn::Sub")
            if isinstance(sub, str) and "${AWS::StackName}" in sub:
                names.add(sub.replace("${AWS::StackName}", "$STACK"))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return names


def test_every_stack_derived_name_in_the_runbook_is_the_templates() -> None:
    """`"$STACK-button-signing"`, `/aws/lambda/<stack>-interactions`, `$STACK/slowest-acks`: each is a
    name the template gives (whole, or as the end of an ARN it builds)."""
    declared = stack_derived_names()
    text = runbook().replace("<stack>", "$STACK")
    written = set(re.findall(r"(?:/[a-z]+)*/?\$STACK[-/][A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*", text))
    assert {"/aws/lambda/$STACK-interactions", "$STACK-button-signing", "$STACK/slowest-acks"} <= written
    unknown = sorted(name for name in written if not any(d == name or d.endswith("/" + name) for d in declared))
    assert not unknown, unknown


def test_the_runbooks_alarm_prefix_matches_every_alarm() -> None:
    """`describe-alarms --alarm-name-prefix "$STACK-"` lists them all only while CloudFormation names
    them (<stack>-<logical id>-<suffix>): an AlarmName of our own would drop out of it."""
    assert '--alarm-name-prefix "$STACK-"' in runbook()
    resources = template()["Resources"]
    assert not [name for name in alarm_names() if "AlarmName" in resources[name]["Properties"]]


def test_every_parameter_a_runbook_command_overrides_is_the_templates() -> None:
    parameters = set(template()["Parameters"])
    overridden: set[str] = set()
    for command in shell_commands(runbook()):
        if "--parameter-overrides" in command:
            overridden |= set(re.findall(r"\b([A-Z][A-Za-z0-9]+)=", command.split("--parameter-overrides", 1)[1]))
    overridden -= {"Name"}  # the placeholder in "--parameter-overrides Name=value"
    assert {"DiscordApplicationId", "GitHubRepository", "AlertChannelId"} <= overridden
    assert overridden <= parameters, sorted(overridden - parameters)


def test_every_ssm_parameter_the_runbook_writes_or_reads_is_one_the_stack_reads() -> None:
    """A secret put under a name the stack never reads is a secret the bot never gets: each name is a
    parameter's default or a value the RUNBOOK passes to one."""
    text = " ".join(shell_commands(runbook()))
    written = set(re.findall(r"aws ssm (?:put|get)-parameter [^\n]*?--name (\S+)", text))
    defaults = {str(p.get("Default")) for p in template()["Parameters"].values()}
    passed = set(re.findall(r"\b[A-Z][A-Za-z0-9]+Parameter=(/[A-Za-z0-9/_.-]+)", text))
    assert {"/orchestrator/github-token", "/orchestrator/discord-public-key"} <= written
    assert written <= defaults | passed, sorted(written - defaults - passed)


def test_every_function_alias_parameter_and_key_a_runbook_command_names_is_the_templates() -> None:
    """`recycle X` (the RUNBOOK's own shell function), `update-alias --name A`,
    `ParameterKey=='P'` and the keys of a `delete-item`: each is what the template declares."""
    declared = template()
    resources = declared["Resources"]
    commands = shell_commands(runbook())
    functions = {name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    recycled = {name for command in commands for name in re.findall(r"\brecycle ([A-Z]\w*)", command)}
    assert {"InteractionsFunction", "WorkerFunction", "AlarmFunction"} <= recycled
    assert recycled <= functions, sorted(recycled - functions)
    aliases = {alias for command in commands for alias in re.findall(r"update-alias [^\n]*--name (\S+)", command)}
    published = {
        branch
        for r in resources.values()
        for branch in (r.get("Properties", {}).get("AutoPublishAlias", {}).get("Fn::If", [None, None])[1:2])
    }
    assert aliases and aliases <= published, sorted(aliases - published)
    keys = {key for command in commands for key in re.findall(r"ParameterKey=='(\w+)'", command)}
    assert keys and keys <= set(declared["Parameters"]), sorted(keys - set(declared["Parameters"]))
    table_keys = {k["AttributeName"] for k in resources["StateTable"]["Properties"]["KeySchema"]}
    deletes = [command for command in commands if "dynamodb delete-item" in command]
    assert deletes
    for command in deletes:
        assert '--table-name "$(res StateTable)"' in command, command
        key = re.search(r"--key '(\{.*?\})'(?:\s|$)", command)
        assert key and set(json.loads(key.group(1))) == table_keys, command


def test_every_variable_the_runbook_reads_from_a_function_is_set_there() -> None:
    """`get-function-configuration --function-name "$(res X)" --query Environment.Variables...`"""
    declared = template()
    global_variables = set(declared["Globals"]["Function"]["Environment"]["Variables"])
    read = 0
    for command in shell_commands(runbook()):
        target = re.search(r'--function-name "\$\(res (\w+)\)"', command)
        query = re.search(r"Environment\.Variables\.\[?([A-Z0-9_,]+)", command)
        if target and query:
            function = declared["Resources"][target.group(1)]["Properties"]
            variables = global_variables | set(function.get("Environment", {}).get("Variables", {}))
            assert set(query.group(1).split(",")) <= variables, command
            read += 1
    assert read >= 2
