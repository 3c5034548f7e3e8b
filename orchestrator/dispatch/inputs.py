"""Fill a command's workflow inputs from the user's options and the job's context."""

from __future__ import annotations

import json
import re

from orchestrator.commands.model import CommandSpec, OptionValue
from orchestrator.jobs.envelopes import Job

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_INPUTS_PAYLOAD = 65_535  # GitHub's limit for all inputs together


class InputsTooLarge(ValueError):
    pass


def render_inputs(spec: CommandSpec, job: Job) -> dict[str, str]:
    """Inputs as GitHub wants them: strings only. An input that is exactly one optional option
    the user left out is not sent, so the workflow's own default applies."""
    context: dict[str, str] = {
        "trace_id": job.invocation.trace_id,
        "user_id": job.invocation.user_id,
        "user_name": job.invocation.user_name,
        "channel_id": job.invocation.channel_id or "",
        "prompt": spec.prompt_text or "",
    }
    # The context last: an option may never stand in for who ran it, or for the trace id its run is
    # found by (validate refuses such option names; this holds whatever file is loaded).
    values = {**{name: _as_input(value) for name, value in job.invocation.options.items()}, **context}
    inputs: dict[str, str] = {}
    for name, template in spec.inputs:
        whole = _PLACEHOLDER.fullmatch(template)
        if whole and whole.group(1) not in values:
            continue
        inputs[name] = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)
    size = len(json.dumps(inputs, ensure_ascii=False))
    if size > MAX_INPUTS_PAYLOAD:
        raise InputsTooLarge(f"the workflow inputs are {size} characters; GitHub accepts {MAX_INPUTS_PAYLOAD}")
    return inputs


def correlation_input(spec: CommandSpec) -> bool:
    """Whether the command sends {trace_id}, which lets us find its run by name."""
    return any("{trace_id}" in template for _, template in spec.inputs)


def _as_input(value: OptionValue) -> str:
    # GitHub's boolean inputs expect "true"/"false", not Python's "True".
    return str(value).lower() if isinstance(value, bool) else str(value)
