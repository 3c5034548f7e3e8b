"""`.env.example` and the configuration reference, written from the declarations.

    python -m orchestrator_dev.settings_reference        # rewrite both after changing declared.py

A test keeps the files equal to what this writes, so a setting cannot be added, renamed or given
another default without its documentation following.
"""

from __future__ import annotations

import sys
import textwrap
from itertools import groupby
from pathlib import Path

from orchestrator.settings.declared import SECRETS, SETTINGS, Role, Setting

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / ".env.example"
REFERENCE = ROOT / "docs" / "configuration.md"
BEGIN = "<!-- settings: generated from orchestrator/settings/declared.py by orchestrator_dev/settings_reference.py -->"
END = "<!-- end of the generated settings -->"

_ENV_HEADER = """\
# orchestrator settings: every one, with a safe default and where it comes from.
# Generated from orchestrator/settings/declared.py (python -m orchestrator_dev.settings_reference):
# change a setting there, not here. The full reference: docs/configuration.md.
#
# Local use:  cp .env.example .env   (then fill in .env: it is git-ignored, this file is not)
#             set -a; . ./.env; set +a
#             python -m orchestrator validate && python -m orchestrator serve
# In Lambda, template.yaml sets these from its parameters: see RUNBOOK.md, "Settings and flags".
#
# An empty value counts as "not set". Secrets are left empty here on purpose: never commit one.
# Values have no quotes and no spaces, so any POSIX shell can source this file.
"""

_SSM_SECTION = """\
# <NAME>_PARAMETER names an SSM parameter to read <NAME> from when <NAME> itself is empty.
# The template sets these; leave them empty locally."""


def env_example() -> str:
    lines = [_ENV_HEADER]
    for section, settings in groupby(SETTINGS, key=lambda setting: setting.section):
        lines.append(_rule(section))
        for setting in settings:
            lines += [f"# {line}" for line in textwrap.wrap(_env_comment(setting), 95, break_on_hyphens=False)]
            lines.append(f"{setting.name}={setting.default}")
        lines.append("")
    lines += [_rule("Secrets from SSM Parameter Store (Lambda)"), _SSM_SECTION]
    lines += [f"{setting.name}_PARAMETER=" for setting in SECRETS]
    return "\n".join(lines) + "\n"


def reference_table() -> str:
    """The generated part of docs/configuration.md: a table per section."""
    parts = [BEGIN]
    for section, settings in groupby(SETTINGS, key=lambda setting: setting.section):
        parts += ["", f"### {section}", "", "| name | what it does | default | in Lambda |", "|---|---|---|---|"]
        parts += [
            f"| `{s.name}` | {'**Secret.** ' if s.secret else ''}{_cell(s.doc)} | {_cell(_default(s))} | {s.deployed} |"
            for s in settings
        ]
    parts += ["", END]
    return "\n".join(parts)


def reference(current: str) -> str:
    """docs/configuration.md with its generated part replaced (the prose around it is kept)."""
    before, _, rest = current.partition(BEGIN)
    _, _, after = rest.partition(END)
    return before + reference_table() + after


def _rule(section: str) -> str:
    return f"# --- {section} " + "-" * max(3, 93 - len(section))


def _env_comment(setting: Setting) -> str:
    facts = [setting.doc]
    if setting.secret:
        facts.insert(0, "SECRET.")
    if setting.required_by:
        facts.append(f"Required by: {_roles(setting.required_by)}.")
    if setting.required_in_lambda:
        facts.append("Required in Lambda.")
    if setting.default_doc:
        facts.append(setting.default_doc[0].upper() + setting.default_doc[1:].replace("`", "") + ".")
    return " ".join(facts)


def _default(setting: Setting) -> str:
    if setting.required_by:
        required = f"required ({_roles(setting.required_by)})"
        return f"{required}; elsewhere {setting.default_doc}" if setting.default_doc else required
    if setting.required_in_lambda:
        return f"required in Lambda; {setting.default_doc}" if setting.default_doc else "required in Lambda"
    return setting.default_doc or (f"`{setting.default}`" if setting.default else "empty")


def _roles(roles: frozenset[Role]) -> str:
    return ", ".join(role.value for role in Role if role in roles)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def main() -> int:
    ENV_EXAMPLE.write_text(env_example(), encoding="utf-8")
    REFERENCE.write_text(reference(REFERENCE.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"wrote {ENV_EXAMPLE.relative_to(ROOT)} and {REFERENCE.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
