"""Tests of the contract helper itself, with hand-written bodies.

These pin down that the helper accepts what the vendors accept and rejects what they
reject; the contract tests of the orchestrator's own requests live beside the code
that sends them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import openapi
from .errata import DISCORD_ERRATA, GITHUB_ERRATA
from .openapi import (
    DISCORD_SPEC_PATH,
    ContractViolation,
    UnknownOperation,
    discord_contract,
    github_contract,
    validate_interaction_response,
)

ORIGINAL = "/api/v10/webhooks/123456789012345678/aW50ZXJhY3Rpb246dG9rZW4.abc-def_ghi/messages/@original"
DISPATCH = "/repos/octo/orchestrator/actions/workflows/diagnose.yml/dispatches"
RUNS = "/repos/octo/orchestrator/actions/workflows/diagnose.yml/runs"
RUN = "/repos/octo/orchestrator/actions/runs/30433642"
JOBS = "/repos/octo/orchestrator/actions/runs/30433642/jobs"


def link_button(url: object = "https://github.com/octo/orchestrator/actions/runs/30433642") -> dict[str, Any]:
    return {"type": 2, "style": 5, "label": "Open run", "url": url}


def original_body(**overrides: Any) -> dict[str, Any]:
    """What the worker PATCHes onto the deferred reply: content, one embed, one link button."""
    body: dict[str, Any] = {
        "content": "Diagnose finished: **success**",
        "embeds": [
            {
                "title": "diagnose #42",
                "description": "All checks passed.",
                "url": "https://github.com/octo/orchestrator/actions/runs/30433642",
                "color": 0x2ECC71,
                "timestamp": "2026-11-22T10:15:30.123Z",
                "fields": [{"name": "Duration", "value": "1m 12s", "inline": True}],
                "footer": {"text": "orchestrator"},
            }
        ],
        "components": [{"type": 1, "components": [link_button()]}],
        "allowed_mentions": {"parse": []},
    }
    body.update(overrides)
    return body


def violation(excinfo: pytest.ExceptionInfo[ContractViolation]) -> str:
    return str(excinfo.value)


# -- loading -------------------------------------------------------------------------------


def test_discord_description_is_read_from_shared_beside_the_checkout() -> None:
    repo_root = Path(__file__).resolve().parents[2]
    assert (repo_root / "pyproject.toml").is_file()
    assert repo_root.parent / "shared" / "reference" / "discord-openapi.json" == DISCORD_SPEC_PATH
    contract = discord_contract()
    assert contract.openapi_version.startswith("3.1")
    assert contract.base_path == "/api/v10"
    assert discord_contract() is contract  # parsed once per process


def test_without_shared_the_discord_checks_skip_unless_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openapi, "DISCORD_SPEC_PATH", tmp_path / "absent.json")
    monkeypatch.delenv("DISCORD_OPENAPI_REQUIRED", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Discord contract check skipped"):
        discord_contract.__wrapped__()
    monkeypatch.setenv("DISCORD_OPENAPI_REQUIRED", "1")
    with pytest.raises(FileNotFoundError, match=r"absent\.json"):
        discord_contract.__wrapped__()


def test_github_subset_is_openapi_30_with_empty_base_path() -> None:
    contract = github_contract()
    assert contract.openapi_version.startswith("3.0")
    assert contract.base_path == ""


def test_every_erratum_still_applies() -> None:
    # If this fails, the vendor changed the node an erratum patches: re-check the vendor's
    # fix and delete the erratum rather than widening it.
    assert discord_contract().errata_applied == tuple(e.pointer for e in DISCORD_ERRATA)
    assert github_contract().errata_applied == tuple(e.pointer for e in GITHUB_ERRATA)


# -- path matching ---------------------------------------------------------------------------


def test_literal_segment_wins_over_template() -> None:
    operation = discord_contract().find_operation("PATCH", ORIGINAL)
    assert operation.template == "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
    assert operation.operation_id == "update_original_webhook_message"
    assert operation.path_params == {
        "webhook_id": "123456789012345678",
        "webhook_token": "aW50ZXJhY3Rpb246dG9rZW4.abc-def_ghi",
    }


def test_template_matches_one_segment_only() -> None:
    contract = discord_contract()
    operation = contract.find_operation("PATCH", "/api/v10/webhooks/1/tok/messages/987654321")
    assert operation.template == "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
    with pytest.raises(UnknownOperation):
        contract.find_operation("PATCH", "/api/v10/webhooks/1/to/ken/messages/@original")


def test_full_url_and_workflow_file_name_match() -> None:
    operation = github_contract().find_operation("POST", "https://api.github.com" + DISPATCH)
    assert operation.operation_id == "actions/create-workflow-dispatch"
    assert operation.path_params["workflow_id"] == "diagnose.yml"


def test_a_file_path_parameter_may_hold_slashes() -> None:
    contents = "/repos/octo/orchestrator/contents/.github/workflows/diagnose.yml"
    operation = github_contract().validate_request("GET", contents, body=None, query={"ref": "main"})
    assert operation.template == "/repos/{owner}/{repo}/contents/{path}"
    assert operation.path_params == {"owner": "octo", "repo": "orchestrator", "path": ".github/workflows/diagnose.yml"}


def test_unknown_path_raises_a_clear_error() -> None:
    with pytest.raises(
        UnknownOperation, match=r"Path not found for https://api.github.com/repos/octo/orchestrator/actions/nope"
    ):
        github_contract().validate_request("POST", "/repos/octo/orchestrator/actions/nope", body={})


def test_known_path_with_undeclared_method_is_unknown() -> None:
    with pytest.raises(UnknownOperation, match="Operation put not found"):
        github_contract().validate_request("PUT", RUN, body=None)


# -- Discord requests --------------------------------------------------------------------------


def test_valid_patch_original_body_passes() -> None:
    operation = discord_contract().validate_request("PATCH", ORIGINAL, body=original_body())
    assert operation.operation_id == "update_original_webhook_message"


def test_content_of_2001_chars_fails_with_a_short_readable_message() -> None:
    with pytest.raises(ContractViolation) as excinfo:
        discord_contract().validate_request("PATCH", ORIGINAL, body=original_body(content="x" * 2001))
    message = violation(excinfo)
    assert "$.content" in message
    assert "is too long" in message  # the end of jsonschema's message survives truncation
    assert len(message) < 600  # the 2001-char value is not dumped whole


def test_link_button_with_a_non_string_url_fails_and_points_at_the_button() -> None:
    body = original_body(components=[{"type": 1, "components": [link_button(url=12345)]}])
    with pytest.raises(ContractViolation) as excinfo:
        discord_contract().validate_request("PATCH", ORIGINAL, body=body)
    # The oneOf over component kinds is explained through the branch whose `type` matched.
    assert "$.components[0].components[0].url: 12345 is not of type 'string', 'null'" in violation(excinfo)


def test_link_button_url_must_be_a_uri() -> None:
    body = original_body(components=[{"type": 1, "components": [link_button(url="not a url")]}])
    with pytest.raises(ContractViolation, match="is not a 'uri'"):
        discord_contract().validate_request("PATCH", ORIGINAL, body=body)


def test_embed_timestamp_must_be_rfc3339() -> None:
    body = original_body(embeds=[{"title": "t", "timestamp": "22/11/2026"}])
    with pytest.raises(ContractViolation, match=r"\$\.embeds\[0\]\.timestamp"):
        discord_contract().validate_request("PATCH", ORIGINAL, body=body)


def test_every_error_is_listed() -> None:
    body = original_body(content="x" * 2001, embeds=[{"color": -1}])
    with pytest.raises(ContractViolation) as excinfo:
        discord_contract().validate_request("PATCH", ORIGINAL, body=body)
    message = violation(excinfo)
    assert "2 problem(s)" in message
    assert "$.content" in message
    assert "$.embeds[0].color" in message


def test_path_parameter_is_checked_against_snowflake_schema() -> None:
    url = "/api/v10/webhooks/12ab/token/messages/@original"
    with pytest.raises(ContractViolation, match="path parameter webhook_id='12ab': '12ab' is not a 'snowflake'"):
        discord_contract().validate_request("PATCH", url, body=original_body())


def test_declared_query_parameters_are_coerced_and_unknown_ones_rejected() -> None:
    contract = discord_contract()
    contract.validate_request("PATCH", ORIGINAL, body=original_body(), query={"with_components": "true"})
    contract.validate_request("PATCH", ORIGINAL + "?thread_id=42", body=original_body())
    with pytest.raises(ContractViolation, match="query parameter 'wait' is not declared"):
        contract.validate_request("PATCH", ORIGINAL, body=original_body(), query={"wait": "true"})
    with pytest.raises(ContractViolation, match="query parameter with_components='maybe'"):
        contract.validate_request("PATCH", ORIGINAL, body=original_body(), query={"with_components": "maybe"})


def test_missing_required_body_and_unexpected_body_are_errors() -> None:
    contract = discord_contract()
    with pytest.raises(ContractViolation, match="Missing required request body"):
        contract.validate_request("PATCH", ORIGINAL, body=None)
    with pytest.raises(ContractViolation, match="declares no requestBody"):
        contract.validate_request("DELETE", ORIGINAL, body={"content": "x"})
    contract.validate_request("DELETE", ORIGINAL, body=None)


def test_overlapping_anyof_unions_accept_bodies_that_fit_several_branches() -> None:
    # Discord emits `anyOf` + `x-discord-union: oneOf` where branches overlap: {"content": ...}
    # is both an IncomingWebhookRequestPartial and an IncomingWebhookUpdateRequestPartial.
    # Enforcing "exactly one" there would reject every ordinary webhook message.
    discord_contract().validate_request("POST", "/api/v10/webhooks/1/token", body={"content": "hi"})


# -- our answers to Discord ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"type": 1},
        {"type": 5, "data": {"flags": 64}},
        {"type": 4, "data": {"content": "x", "flags": 64}},
    ],
)
def test_valid_interaction_responses_pass(body: dict[str, Any]) -> None:
    validate_interaction_response(body)


def test_unknown_interaction_response_type_fails_and_lists_the_accepted_types() -> None:
    with pytest.raises(ContractViolation) as excinfo:
        validate_interaction_response({"type": 99})
    assert "$.type: must be one of [1, 4, 5, 6, 7, 8, 9, 12, 13]" in violation(excinfo)


def test_interaction_response_data_is_checked() -> None:
    with pytest.raises(ContractViolation, match=r"\$\.data\.content: 5 is not of type"):
        validate_interaction_response({"type": 4, "data": {"content": 5}})


# -- Discord responses (for stand-in fakes) --------------------------------------------------


def test_discord_error_bodies_as_really_sent_validate() -> None:
    contract = discord_contract()
    invalid_form_body = {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {
            "content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}
        },
    }
    contract.validate_response("PATCH", ORIGINAL, 400, invalid_form_body)
    rate_limited = {"message": "You are being rate limited.", "retry_after": 1.5, "global": False}
    contract.validate_response("PATCH", ORIGINAL, 429, rate_limited)
    with pytest.raises(ContractViolation, match="'retry_after' is a required property"):
        contract.validate_response("PATCH", ORIGINAL, 429, {"message": "slow down", "global": False})


# -- GitHub requests ---------------------------------------------------------------------------


def test_valid_dispatch_body_passes() -> None:
    body = {"ref": "main", "inputs": {"a": "b"}, "return_run_details": True}
    github_contract().validate_request("POST", DISPATCH, body=body)


def test_dispatch_with_26_inputs_fails() -> None:
    body = {"ref": "main", "inputs": {f"input_{i}": "v" for i in range(26)}}
    with pytest.raises(ContractViolation, match=r"\$\.inputs: .* has too many properties"):
        github_contract().validate_request("POST", DISPATCH, body=body)


def test_dispatch_without_ref_fails() -> None:
    with pytest.raises(ContractViolation, match="'ref' is a required property"):
        github_contract().validate_request("POST", DISPATCH, body={"inputs": {"a": "b"}})


def test_integer_path_parameter_and_query_parameters() -> None:
    contract = github_contract()
    contract.validate_request("GET", RUN, body=None, query={"exclude_pull_requests": "true"})
    contract.validate_request(
        "GET", RUNS, body=None, query={"per_page": "100", "status": "in_progress", "created": ">=2026-11-01"}
    )
    contract.validate_request("POST", RUN + "/cancel", body=None)
    with pytest.raises(ContractViolation, match="path parameter run_id='latest'"):
        contract.validate_request("GET", "/repos/octo/orchestrator/actions/runs/latest", body=None)
    with pytest.raises(ContractViolation, match="query parameter status='bogus'"):
        contract.validate_request("GET", RUNS, body=None, query={"status": "bogus"})


# -- GitHub responses --------------------------------------------------------------------------


def test_github_workflow_run_list_example_validates() -> None:
    contract = github_contract()
    example = contract.response_example("GET", RUNS, 200)
    assert example["workflow_runs"], "the vendor's example should hold at least one run"
    contract.validate_response("GET", RUNS, 200, example)


def test_dispatch_responses() -> None:
    contract = github_contract()
    contract.validate_response("POST", DISPATCH, 204, None)
    contract.validate_response("POST", DISPATCH, 200, contract.response_example("POST", DISPATCH, 200))
    with pytest.raises(ContractViolation, match="'workflow_run_id' is a required property"):
        contract.validate_response("POST", DISPATCH, 200, {"run_url": "https://x", "html_url": "https://y"})
    with pytest.raises(ContractViolation, match="Unknown response http status: 201"):
        contract.validate_response("POST", DISPATCH, 201, None)


def test_openapi30_nullable_fields_accept_null() -> None:
    contract = github_contract()
    run = contract.response_example("GET", RUN, 200)
    run.update(conclusion=None, pull_requests=None, head_commit=None)  # in-progress run
    contract.validate_response("GET", RUN, 200, run)
    run["status"] = None
    contract.validate_response("GET", RUN, 200, run)  # `status` is nullable too
    run["id"] = None
    with pytest.raises(ContractViolation, match=r"\$\.id: None is not of type 'integer'"):
        contract.validate_response("GET", RUN, 200, run)


def test_openapi30_nullable_enum_accepts_null_but_not_other_values() -> None:
    contract = github_contract()
    jobs = contract.response_example("GET", JOBS, 200)
    job = jobs["jobs"][0]
    # Upstream quirk: the example predates `created_at` becoming required.
    job.setdefault("created_at", job["started_at"])
    job.update(status="in_progress", conclusion=None, completed_at=None)
    contract.validate_response("GET", JOBS, 200, jobs)
    job["conclusion"] = "exploded"
    with pytest.raises(ContractViolation, match=r"\$\.jobs\[0\]\.conclusion: 'exploded' is not one of"):
        contract.validate_response("GET", JOBS, 200, jobs)


def test_a_body_on_a_response_declared_without_one_is_an_error() -> None:
    contract = github_contract()
    contract.validate_response("POST", DISPATCH, 204, None)
    with pytest.raises(ContractViolation, match="the response declares none"):
        contract.validate_response("POST", DISPATCH, 204, {"x": 1})
