from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.commands.invocation import Invocation
from orchestrator.commands.model import CommandSet, CommandSpec
from orchestrator.dispatch.inputs import InputsTooLarge, correlation_input, render_inputs
from orchestrator.dispatch.outcome import DispatchOutcome
from orchestrator.jobs.envelopes import BadJobMessage, Job
from orchestrator.messages import limits
from orchestrator.messages.job_messages import outcome_message
from tests.contract.openapi import discord_contract

PATCH_PATH = "/api/v10/webhooks/111111111111111111/token/messages/@original"


def job(**options: str | int | float | bool) -> Job:
    return Job(
        invocation=Invocation(
            interaction_id="1",
            trace_id="a" * 32,
            command="diagnose",
            options=dict(options),
            user_id="3",
            user_name="Alice",
            guild_id=None,
            channel_id="4",
        ),
        application_id="2",
        received_at=time.time(),
        interaction_token="aW50ZXJhY3Rpb246secret",
    )


def embed_text_length(message: dict[str, object]) -> int:
    total = 0
    for embed in message["embeds"]:  # type: ignore[attr-defined]
        total += len(embed.get("title", "")) + len(embed.get("description", ""))
        total += len(embed.get("footer", {}).get("text", ""))
        total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    return total


@given(st.text(max_size=10_000), st.integers(min_value=1, max_value=5000))
def test_fit_lines_never_exceeds_the_limit(text: str, limit: int) -> None:
    assert len(limits.fit_lines(text, limit)) <= limit


def test_fit_lines_cuts_whole_lines() -> None:
    text = "\n".join(f"line {i:03d}" for i in range(100))
    fitted = limits.fit_lines(text, 100)
    kept = fitted.splitlines()
    assert all(line.startswith("line ") for line in kept[:-1])
    assert kept[-1].startswith("… ") and kept[-1].endswith("more line(s)")


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(st.from_regex(r"[a-z]{1,32}", fullmatch=True), st.text(min_size=0, max_size=6000), max_size=25),
    st.text(max_size=5000),
    st.sampled_from(["dispatched", "rejected", "unknown"]),
)
def test_outcome_messages_always_fit_discords_limits(options: dict[str, str], detail: str, kind: str) -> None:
    outcome = DispatchOutcome(kind, run_id=7, html_url="https://github.com/a/b/actions/runs/7", detail=detail)  # type: ignore[arg-type]
    message = outcome_message("diagnose", dict(options), outcome, "b" * 32)
    assert embed_text_length(message) <= limits.EMBEDS_TOTAL
    discord_contract().validate_request("PATCH", PATCH_PATH, body=message)


def test_link_button_only_for_web_urls() -> None:
    unsafe = DispatchOutcome("dispatched", run_id=1, html_url="javascript:alert(1)")
    assert "components" not in outcome_message("x", {}, unsafe, "c" * 32)


def test_inputs_render_options_context_and_prompt(commands: CommandSet) -> None:
    spec = commands.get("diagnose")
    assert spec is not None
    inputs = render_inputs(spec, job(target="staging", verbose=True))
    assert inputs == {"target": "staging", "verbose": "true", "trace_id": "a" * 32, "prompt": "Diagnose the target.\n"}
    assert correlation_input(spec)


@pytest.mark.parametrize("name", ["user_name", "user_id", "trace_id", "channel_id", "prompt"])
def test_the_context_wins_over_an_option_of_the_same_name(name: str) -> None:
    """Whatever file is loaded: a value the user types never stands in for who ran it."""
    spec = CommandSpec("x", "d", "x.yml", "main", inputs=((name, "{" + name + "}"),), prompt_text="P")
    trusted = render_inputs(spec, job())[name]
    assert render_inputs(spec, job(**{name: "forged"}))[name] == trusted != "forged"


def test_unset_optional_option_is_not_sent(commands: CommandSet) -> None:
    spec = commands.get("diagnose")
    assert spec is not None
    assert "verbose" not in render_inputs(spec, job(target="staging"))


def test_oversized_inputs_are_refused_before_sending(commands: CommandSet) -> None:
    spec = commands.get("diagnose")
    assert spec is not None
    with pytest.raises(InputsTooLarge):
        render_inputs(spec, job(target="x" * 70_000))


@pytest.mark.parametrize(
    "body",
    [
        "nope",
        "[]",
        '{"v": 2, "kind": "dispatch"}',
        '{"v": 1, "kind": "poll"}',
        '{"v": 1, "kind": "dispatch", "interaction_id": "1"}',
    ],
)
def test_bad_queue_messages_are_poison(body: str) -> None:
    with pytest.raises(BadJobMessage):
        Job.from_message(body)


def test_job_round_trip() -> None:
    original = job(target="staging", count=3, ratio=0.5, verbose=False)
    assert Job.from_message(original.to_message()) == original


def test_option_values_are_shown_as_typed_never_as_links_or_formatting() -> None:
    outcome = DispatchOutcome("dispatched", run_id=7, html_url="https://github.com/a/b/actions/runs/7")
    message = outcome_message("deploy", {"note": "[Approve](https://evil.example) **now**"}, outcome, "b" * 32)
    [field] = message["embeds"][0]["fields"]
    assert field["value"] == "\\[Approve\\]\\(https://evil.example\\) \\*\\*now\\*\\*"
    long = outcome_message("deploy", {"note": "*" * 5000}, outcome, "b" * 32)["embeds"][0]["fields"][0]["value"]
    assert len(long) <= 1024 and long.endswith("…") and not long[:-1].endswith("\\")
