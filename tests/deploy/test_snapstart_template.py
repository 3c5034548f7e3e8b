"""The interactions function's SnapStart (parameter InteractionsSnapStart): off, the stack is exactly
what it was before the parameter existed; on, versions are published and snapshotted, and the function
URL is served by the alias on the latest one."""

from __future__ import annotations

from typing import Any

import pytest
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform

from tests.deploy.sam import NoManagedPolicies, parsed_template, translate
from tests.deploy.test_template import resources_of, translated_findings

SNAPSTART_PROPERTIES = ("AutoPublishAlias", "AutoPublishAliasAllProperties", "VersionDeletionPolicy", "SnapStart")


@pytest.fixture(scope="module")
def off() -> dict[str, Any]:
    return translate(parsed_template())


@pytest.fixture(scope="module")
def on() -> dict[str, Any]:
    return translate(parsed_template(), {"InteractionsSnapStart": "true"})


def template_before_snapstart() -> dict[str, Any]:
    template = parsed_template()
    template["Transform"] = "AWS::Serverless-2016-10-31"
    del template["Parameters"]["InteractionsSnapStart"]
    del template["Conditions"]["InteractionsSnapStartEnabled"]
    for name in SNAPSTART_PROPERTIES:
        del template["Resources"]["InteractionsFunction"]["Properties"][name]
    return template


def test_the_parameter_is_off_unless_asked_for() -> None:
    parameter = parsed_template()["Parameters"]["InteractionsSnapStart"]
    assert parameter["Default"] == "false" and parameter["AllowedValues"] == ["true", "false"]
    assert "InteractionsUrl" in parameter["Description"]  # turning it on or off changes the URL


def test_language_extensions_resolve_the_alias_before_sam_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    template = parsed_template()
    assert template["Transform"] == ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts/orchestrator.zip"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(InvalidDocumentException, match="AutoPublishAlias"):  # SAM alone: a string or a Ref
        transform(template, {}, NoManagedPolicies())


def test_off_the_stack_is_the_one_before_snapstart_existed(off: dict[str, Any]) -> None:
    before = translate(template_before_snapstart())
    assert off["Resources"] == before["Resources"]
    assert off["Outputs"] == before["Outputs"]


def test_off_no_version_no_alias_and_the_url_on_the_function(off: dict[str, Any]) -> None:
    assert not resources_of(off, "AWS::Lambda::Version") and not resources_of(off, "AWS::Lambda::Alias")
    assert "SnapStart" not in off["Resources"]["InteractionsFunction"]["Properties"]
    url = off["Resources"]["InteractionsFunctionUrl"]["Properties"]
    assert url["TargetFunctionArn"] == {"Ref": "InteractionsFunction"}


def test_on_snapshots_published_versions_and_serves_the_url_from_the_alias(on: dict[str, Any]) -> None:
    function = on["Resources"]["InteractionsFunction"]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    [(version_id, version)] = resources_of(on, "AWS::Lambda::Version").items()
    # A replaced version is deleted: a kept one would keep its snapshot and its cache charge.
    assert version["DeletionPolicy"] == "Delete"
    assert version["Properties"]["FunctionName"] == {"Ref": "InteractionsFunction"}
    [(alias_id, alias)] = resources_of(on, "AWS::Lambda::Alias").items()
    assert alias["Properties"]["Name"] == "live"
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
    [url] = resources_of(on, "AWS::Lambda::Url").values()
    assert url["Properties"] == {"TargetFunctionArn": {"Ref": alias_id}, "AuthType": "NONE"}
    # Public, as before, but on the alias: invoking through its URL and the alias itself.
    permissions = resources_of(on, "AWS::Lambda::Permission")
    to_the_url = {
        p["Properties"]["Action"]: p["Properties"] for n, p in permissions.items() if n.startswith("Interactions")
    }
    assert to_the_url["lambda:InvokeFunctionUrl"]["FunctionName"] == {"Ref": alias_id}
    assert to_the_url["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"] == "NONE"
    assert to_the_url["lambda:InvokeFunction"]["FunctionName"] == {"Ref": alias_id}
    assert to_the_url["lambda:InvokeFunction"]["InvokedViaFunctionUrl"] is True
    assert on["Outputs"]["InteractionsUrl"]["Value"] == {
        "Fn::Sub": "${InteractionsFunctionUrl.FunctionUrl}interactions"
    }


def test_each_change_publishes_a_new_version() -> None:
    def version_of(translated: dict[str, Any]) -> str:
        [version_id] = resources_of(translated, "AWS::Lambda::Version")
        return version_id

    on = {"InteractionsSnapStart": "true"}
    first = version_of(translate(parsed_template(), on))
    assert version_of(translate(parsed_template(), on, code="s3://artifacts/next.zip")) != first
    longer = parsed_template()
    longer["Resources"]["InteractionsFunction"]["Properties"]["Timeout"] = 6
    assert version_of(translate(longer, on)) != first  # not only code: any property


def test_on_role_log_group_and_alarms_are_unchanged(off: dict[str, Any], on: dict[str, Any]) -> None:
    for kind in ("AWS::IAM::Role", "AWS::Logs::LogGroup", "AWS::CloudWatch::Alarm"):
        assert resources_of(on, kind) == resources_of(off, kind), kind
    # Lambda's metrics by FunctionName alone add up every version and alias, the URL's too: the
    # alarms measure the alias's invocations as they measured $LATEST's.
    function_alarms = [
        a for a in resources_of(on, "AWS::CloudWatch::Alarm").values() if a["Properties"]["Namespace"] == "AWS/Lambda"
    ]
    for alarm in function_alarms:
        [dimension] = alarm["Properties"]["Dimensions"]
        assert dimension["Name"] == "FunctionName"


def test_on_meets_snapstarts_constraints(on: dict[str, Any]) -> None:
    """Python 3.12 or later; no provisioned concurrency, EFS, or ephemeral storage over 512 MB."""
    function = on["Resources"]["InteractionsFunction"]["Properties"]
    major, minor = function["Runtime"].removeprefix("python").split(".")
    assert (int(major), int(minor)) >= (3, 12)
    assert "FileSystemConfigs" not in function
    assert function.get("EphemeralStorage", {"Size": 512})["Size"] <= 512
    [alias] = resources_of(on, "AWS::Lambda::Alias").values()
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]


def test_on_the_translated_template_is_lint_clean(on: dict[str, Any]) -> None:
    assert translated_findings(on) == []
