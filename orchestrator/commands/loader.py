"""Read and validate the commands file.

Validation collects every problem, each as one line that points at the place in
the file (`commands.deploy.options[1].choices`), so `validate` can list them all.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

from orchestrator.commands.builtin import RESERVED_NAMES
from orchestrator.commands.compiled import read_compiled
from orchestrator.commands.fields import INPUT_NAME, boolean, description_of, is_discord_name, unknown_keys
from orchestrator.commands.model import (
    CONTEXT_PLACEHOLDERS,
    AllowList,
    CommandSet,
    CommandSpec,
    OptionOverride,
    OptionSpec,
)
from orchestrator.commands.options_section import parse_options, parse_overrides
from orchestrator.observability.redaction import RedactionPatternError, compile_custom_pattern
from orchestrator.ratelimits.bucket import BucketRule
from orchestrator.settings import SNOWFLAKE_RULE, is_snowflake

_WORKFLOW = re.compile(r"^(?:[\w.-]+\.ya?ml|[0-9]+)$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# Discord registers at most 100 slash commands per application (or server); /debug-last takes one.
MAX_COMMANDS = 100 - len(RESERVED_NAMES)
MAX_INPUTS = 25  # GitHub
MAX_INPUTS_PAYLOAD = 65_535  # GitHub, all inputs together
# Room kept for option values and context values next to the prompt text.
PROMPT_HEADROOM = 8_192
DEFAULT_REF = "main"
# Where prompt files live, beside the commands file: validate checks every file in it.
PROMPTS_FOLDER = "prompts"

_COMMAND_KEYS = {
    "description",
    "workflow",
    "ref",
    "prompt",
    "ephemeral",
    "confirm",
    "options",
    "inputs",
    "allow",
    "cancel",
    "rerun",
    "alert_on_failure",
    "failure_log",
    "rate_limit",
    "options_from_workflow",
}


class CommandsFileError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid commands file:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


def load_commands(path: Path) -> CommandSet:
    """Load and validate; raise CommandsFileError listing every problem."""
    commands, problems = check_commands(path)
    if problems or commands is None:
        raise CommandsFileError(problems)
    return commands


def check_commands(path: Path) -> tuple[CommandSet | None, list[str]]:
    """Validate the file; return the command set (None when unusable) and the problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path}: cannot read ({exc.__class__.__name__})"]
    document = read_compiled(path, text)
    problems: list[str] = []
    if document is None:  # not compiled at build time (compiled.py), or not from this text
        from orchestrator.commands.yaml_document import NotYaml, read_yaml

        try:
            read = read_yaml(text)
        except NotYaml as exc:
            return None, [f"{path}: not valid YAML ({exc})"]
        document, problems = read.data, list(read.duplicates)
    commands = _parse_document(document, path.parent, problems)
    patterns = _parse_redact_patterns(document, problems)
    return (CommandSet(commands, patterns) if not problems else None), problems


def check_prompt_folder(commands_file: Path) -> list[str]:
    """Problems of the files in the `prompts/` folder beside the commands file that no command names.

    `validate` runs this so that a prompt written ahead of its command is checked before a command
    uses it; loading the bot does not (an unused file must not stop it)."""
    base_dir = commands_file.parent
    folder = base_dir / PROMPTS_FOLDER
    if not folder.is_dir():
        return []
    problems: list[str] = []
    named = _named_prompts(commands_file)
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and path.resolve() not in named:
            _read_prompt(path.relative_to(base_dir).as_posix(), base_dir, f"{PROMPTS_FOLDER} folder", problems)
    return problems


def _named_prompts(commands_file: Path) -> set[Path]:
    """The prompt files the commands name (check_commands reports their problems and the file's)."""
    from orchestrator.commands.yaml_document import NotYaml, read_yaml

    try:
        document = read_yaml(commands_file.read_text(encoding="utf-8")).data
    except (OSError, UnicodeDecodeError, NotYaml):
        return set()
    commands = document.get("commands") if isinstance(document, dict) else None
    if not isinstance(commands, dict):
        return set()
    return {
        (commands_file.parent / spec["prompt"]).resolve()
        for spec in commands.values()
        if isinstance(spec, dict) and isinstance(spec.get("prompt"), str)
    }


def _parse_document(document: object, base_dir: Path, problems: list[str]) -> dict[str, CommandSpec]:
    if not isinstance(document, dict):
        problems.append("top level: expected a mapping with a 'commands' key")
        return {}
    unknown_keys(document, {"commands", "redact_patterns"}, "top level", problems)
    raw_commands = document.get("commands")
    if not isinstance(raw_commands, dict) or not raw_commands:
        problems.append("commands: expected a mapping of command name to command")
        return {}
    if len(raw_commands) > MAX_COMMANDS:
        problems.append(
            f"commands: {len(raw_commands)} commands; Discord registers at most {MAX_COMMANDS} beside /debug-last"
        )
    commands: dict[str, CommandSpec] = {}
    for name, raw in raw_commands.items():
        where = f"commands.{name}"
        if not isinstance(name, str) or not is_discord_name(name):
            problems.append(f"{where}: bad command name: use 1-32 lowercase letters, digits, '-' or '_'")
            continue
        if name in RESERVED_NAMES:
            problems.append(f"{where}: /{name} is built into the bot; choose another name")
            continue
        spec = _parse_command(name, raw, base_dir, where, problems)
        if spec is not None:
            commands[name] = spec
    return commands


def _parse_redact_patterns(document: object, problems: list[str]) -> dict[str, re.Pattern[str]]:
    raw = document.get("redact_patterns", {}) if isinstance(document, dict) else {}
    if not isinstance(raw, dict):
        problems.append("redact_patterns: expected a mapping of name to regular expression")
        return {}
    patterns: dict[str, re.Pattern[str]] = {}
    for name, source in raw.items():
        try:
            patterns[str(name)] = compile_custom_pattern(str(name), source)
        except RedactionPatternError as exc:
            problems.append(f"redact_patterns.{exc}")
    return patterns


def _parse_command(name: str, raw: object, base_dir: Path, where: str, problems: list[str]) -> CommandSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping")
        return None
    before = len(problems)
    unknown_keys(raw, _COMMAND_KEYS, where, problems)
    description = description_of(raw.get("description"), f"{where}.description", problems)
    workflow = raw.get("workflow")
    if isinstance(workflow, int) and not isinstance(workflow, bool):
        workflow = str(workflow)
    if workflow is None:
        problems.append(f"{where}.workflow: missing: name the workflow file it runs (deploy.yml) or its numeric id")
    elif not isinstance(workflow, str) or not _WORKFLOW.match(workflow):
        problems.append(f"{where}.workflow: expected a workflow file name (deploy.yml) or a numeric id")
    ref = raw.get("ref", DEFAULT_REF)
    if not isinstance(ref, str) or not ref.strip() or any(c.isspace() for c in ref):
        problems.append(f"{where}.ref: expected a branch or tag name")
    ephemeral = boolean(raw, "ephemeral", where, problems)
    confirm = boolean(raw, "confirm", where, problems)
    alert_on_failure = boolean(raw, "alert_on_failure", where, problems)
    from_workflow = boolean(raw, "options_from_workflow", where, problems)
    options: tuple[OptionSpec, ...] = ()
    overrides: tuple[OptionOverride, ...] = ()
    if not from_workflow:
        options = parse_options(raw.get("options", []), f"{where}.options", problems)
    else:
        if isinstance(workflow, str) and workflow.isdigit():
            problems.append(
                f"{where}.workflow: options_from_workflow reads the workflow's file: name it (deploy.yml), "
                "not its numeric id"
            )
        overrides = parse_overrides(raw.get("options", []), f"{where}.options", problems)
    prompt_text = _read_prompt(raw.get("prompt"), base_dir, f"{where}.prompt", problems)
    inputs = _parse_inputs(raw.get("inputs", {}), options, prompt_text is not None, f"{where}.inputs", problems)
    allow = _parse_allow(raw.get("allow"), f"{where}.allow", problems)
    cancel = _parse_allow(raw.get("cancel"), f"{where}.cancel", problems)
    rerun = _parse_allow(raw.get("rerun"), f"{where}.rerun", problems)
    failure_log = raw.get("failure_log", "private")
    if failure_log not in ("private", "public"):
        problems.append(
            f"{where}.failure_log: expected private (the log only behind Show log) or public (in the message too)"
        )
    rate_limit = _parse_rate_limit(raw.get("rate_limit"), f"{where}.rate_limit", problems)
    if len(problems) > before:
        return None
    return CommandSpec(
        name=name,
        description=description,
        workflow=cast(str, workflow),
        ref=cast(str, ref),
        options=options,
        inputs=inputs,
        prompt_text=prompt_text,
        ephemeral=ephemeral,
        confirm=confirm,
        allow=allow,
        cancel=cancel,
        rerun=rerun,
        alert_on_failure=alert_on_failure,
        failure_log_public=failure_log == "public",
        rate_limit=rate_limit,
        options_from_workflow=from_workflow,
        overrides=overrides,
    )


def _parse_inputs(
    raw: object, options: tuple[OptionSpec, ...], has_prompt: bool, where: str, problems: list[str]
) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping of workflow input name to value")
        return ()
    if len(raw) > MAX_INPUTS:
        problems.append(f"{where}: {len(raw)} inputs, GitHub allows at most {MAX_INPUTS}")
    known = {o.name for o in options} | CONTEXT_PLACEHOLDERS
    inputs: list[tuple[str, str]] = []
    for key, raw_value in raw.items():
        if not isinstance(key, str) or not INPUT_NAME.match(key):
            problems.append(f"{where}: bad input name {key!r}")
            continue
        value = str(raw_value).lower() if isinstance(raw_value, bool | int | float) else raw_value
        if not isinstance(value, str):
            problems.append(f'{where}.{key}: expected a string such as "{{option_name}}"')
            continue
        for placeholder in _PLACEHOLDER.findall(value):
            if placeholder not in known:
                problems.append(
                    f"{where}.{key}: {{{placeholder}}} is neither an option of this command nor one of "
                    f"{', '.join('{' + p + '}' for p in sorted(CONTEXT_PLACEHOLDERS))}"
                )
            elif placeholder == "prompt" and not has_prompt:
                problems.append(f"{where}.{key}: {{prompt}} needs a 'prompt' file on this command")
        inputs.append((key, value))
    return tuple(inputs)


def _parse_allow(raw: object, where: str, problems: list[str]) -> AllowList | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping with 'roles' and/or 'users'")
        return None
    unknown_keys(raw, {"roles", "users"}, where, problems)
    ids: dict[str, frozenset[str]] = {}
    for key in ("roles", "users"):
        values = raw.get(key, [])
        if not isinstance(values, list):
            problems.append(f"{where}.{key}: expected a list of Discord ids")
            values = []
        # YAML reads unquoted ids as integers; accept both, compare as strings.
        as_text = [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in values]
        for value in as_text:
            if not isinstance(value, str) or not is_snowflake(value):
                problems.append(f"{where}.{key}: {value!r} is not {SNOWFLAKE_RULE}")
        ids[key] = frozenset(v for v in as_text if isinstance(v, str))
    return AllowList(roles=ids["roles"], users=ids["users"])


def _parse_rate_limit(raw: object, where: str, problems: list[str]) -> BucketRule | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping with 'per_minute' and 'burst'")
        return None
    unknown_keys(raw, {"per_minute", "burst"}, where, problems)
    per_minute, burst = raw.get("per_minute"), raw.get("burst", 1)
    if isinstance(per_minute, bool) or not isinstance(per_minute, int | float) or not 0 < per_minute <= 600:
        problems.append(f"{where}.per_minute: expected a number of commands a minute, above 0 and at most 600")
        return None
    if isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= 100:
        problems.append(f"{where}.burst: expected a whole number from 1 to 100")
        return None
    return BucketRule(float(per_minute), burst)


def _read_prompt(raw: object, base_dir: Path, where: str, problems: list[str]) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{where}: expected a path to a prompt file")
        return None
    path = base_dir / raw
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(f"{where}: prompt file not found: {path}")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{where}: cannot read prompt file {path} ({exc.__class__.__name__})")
        return None
    if not text.strip():
        problems.append(f"{where}: prompt file is empty: {path}")
    limit = MAX_INPUTS_PAYLOAD - PROMPT_HEADROOM
    if len(text) > limit:
        problems.append(f"{where}: prompt is {len(text)} characters; GitHub's inputs limit leaves room for {limit}")
    return text
