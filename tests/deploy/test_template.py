"""template.yaml: cfn-lint clean, accepted by SAM's own transform, and wired to the code that exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from samtranslator.yaml_helper import yaml_parse

from tests.deploy.sam import RESOLVED_BEFORE_SAM, TEMPLATE, parsed_template, translate


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return translate(parsed_template())


def resources_of(translated: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in translated["Resources"].items() if r["Type"] == kind}


def findings(template_text: str) -> list[str]:
    """Errors and warnings, as `cfn-lint template.yaml` reports them (informational rules are opt-in)."""
    matches = lint(template_text, config=ManualArgs(regions=["us-east-1"]))
    return [str(m) for m in matches if not m.rule.id.startswith("I")]


def test_cfn_lint_is_clean() -> None:
    assert findings(TEMPLATE.read_text(encoding="utf-8")) == []


def test_sam_transform_accepts_it(translated: dict[str, Any]) -> None:
    [url] = resources_of(translated, "AWS::Lambda::Url").values()
    assert url["Properties"]["AuthType"] == "NONE"
    [mapping] = resources_of(translated, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    functions = resources_of(translated, "AWS::Lambda::Function")
    assert {f["Properties"]["Architectures"][0] for f in functions.values()} == {"arm64"}


def translated_findings(translated: dict[str, Any]) -> list[str]:
    """`findings` of a translated template. A parameter read only by the !If resolved before SAM
    is unused afterwards, as in the template CloudFormation processes: not a finding."""
    import json

    consumed = [f"Parameter {parameter} not used" for parameter, _ in RESOLVED_BEFORE_SAM.values()]
    return [f for f in findings(json.dumps(translated)) if not any(c in f for c in consumed)]


def test_translated_template_is_lint_clean_too(translated: dict[str, Any]) -> None:
    assert translated_findings(translated) == []


def test_handlers_exist(translated: dict[str, Any]) -> None:
    for function in resources_of(translated, "AWS::Lambda::Function").values():
        module_name, _, attribute = function["Properties"]["Handler"].rpartition(".")
        spec = importlib.util.find_spec(module_name)
        assert spec is not None and spec.origin is not None, module_name
        assert f"def {attribute}(" in Path(spec.origin).read_text(encoding="utf-8")


def test_redrive_matches_the_workers_last_attempt_setting() -> None:
    template = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    resources = template["Resources"]
    receives = resources["WorkQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    worker_env = resources["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert str(receives) == worker_env["WORKER_MAX_RECEIVES"]


def test_iam_is_scoped_to_the_resources_used(translated: dict[str, Any]) -> None:
    roles = resources_of(translated, "AWS::IAM::Role")
    assert sorted(roles) == ["AlarmRole", "InteractionsRole", "WorkerRole"]  # SAM generated none
    for name, role in roles.items():
        assert "ManagedPolicyArns" not in role["Properties"], name
        for policy in role["Properties"]["Policies"]:
            for written in policy["PolicyDocument"]["Statement"]:
                # A conditional grant: check its granting branch.
                statement = written["Fn::If"][1] if "Fn::If" in written else written
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not any(action.endswith("*") for action in actions), (name, actions)
                if statement["Resource"] == "*":
                    assert all(action.startswith("xray:") for action in actions), (name, actions)


def test_each_function_logs_to_its_own_group_with_retention(translated: dict[str, Any]) -> None:
    groups = resources_of(translated, "AWS::Logs::LogGroup")
    functions = resources_of(translated, "AWS::Lambda::Function")
    used = [f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for f in functions.values()]
    assert sorted(used) == sorted(groups)
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        assert group["Properties"]["LogGroupName"]["Fn::Sub"].startswith("/aws/lambda/${AWS::StackName}-"), name
    for name, role in resources_of(translated, "AWS::IAM::Role").items():
        statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        [logs] = [s for s in statements if "logs:PutLogEvents" in s.get("Action", [])]
        assert logs["Resource"]["Fn::GetAtt"][0] in groups, name


def test_alarms_reach_the_alarm_function(translated: dict[str, Any]) -> None:
    alarms = resources_of(translated, "AWS::CloudWatch::Alarm")
    assert alarms and all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())
    # CloudWatch cannot publish to a topic under the AWS managed key alias/aws/sns.
    assert "KmsMasterKeyId" not in translated["Resources"]["AlarmTopic"].get("Properties", {})
    [subscription] = resources_of(translated, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == {"Fn::GetAtt": ["AlarmFunction", "Arn"]}


def test_no_secret_is_a_plain_parameter_or_environment_value() -> None:
    template = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "GITHUB_TOKEN:" not in text and "DISCORD_BOT_TOKEN:" not in text
    for name in template["Parameters"]:
        assert "Token" not in name or name.endswith("Parameter"), name


def test_lint_all_sees_problems() -> None:
    """Guard against a silently disabled linter: a broken template must produce findings."""
    assert findings("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Nope: 1\n")


def evaluate(node: Any, conditions: dict[str, Any], parameters: dict[str, Any]) -> Any:
    """A condition or value as CloudFormation resolves it, for the intrinsics the template's
    conditions use; any other function is an error here, never a silent pass."""
    if isinstance(node, list):
        return [evaluate(item, conditions, parameters) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) != 1 or not next(iter(node)).startswith(("Fn::", "Ref", "Condition")):
        return {key: evaluate(value, conditions, parameters) for key, value in node.items()}
    [(function, argument)] = node.items()
    if function == "Ref":
        return parameters[argument]
    if function == "Condition":
        return evaluate(conditions[argument], conditions, parameters)
    if function == "Fn::If":
        name, when_true, when_false = argument
        return evaluate(
            when_true if evaluate({"Condition": name}, conditions, parameters) else when_false, conditions, parameters
        )
    values = evaluate(argument, conditions, parameters)
    if function == "Fn::Equals":
        return str(values[0]) == str(values[1])
    if function == "Fn::Not":
        return not values[0]
    if function == "Fn::And":
        return all(values)
    if function == "Fn::Or":
        return any(values)
    if function == "Fn::Select":
        return values[1][int(values[0])]
    if function == "Fn::Split":
        return str(values[1]).split(values[0])
    raise AssertionError(f"{function} is not evaluated here")


NO_VALUE = object()


def resolved(template: dict[str, Any], node: Any, **parameters: Any) -> Any:
    """`node` with `parameters` set (the others at their defaults); AWS::NoValue as NO_VALUE."""
    values = {name: spec.get("Default") for name, spec in template["Parameters"].items()}
    values.update(parameters, **{"AWS::NoValue": NO_VALUE})
    return evaluate(node, template["Conditions"], values)


def test_a_first_deploy_reserves_no_concurrency(translated: dict[str, Any]) -> None:
    """Reserving needs an account quota new accounts do not have: off unless asked for."""
    reserved = translated["Resources"]["InteractionsFunction"]["Properties"]["ReservedConcurrentExecutions"]
    assert resolved(translated, reserved) is NO_VALUE  # the default, 0: unreserved (0 would block every request)
    assert resolved(translated, reserved, InteractionsReservedConcurrency=10) == 10


def parameter_arns(translated: dict[str, Any], parameter: str, name: str) -> set[str]:
    """The SSM parameter ARNs the roles grant for `parameter` set to `name`, conditions evaluated as
    CloudFormation would."""
    found: set[str] = set()

    def holds(condition: str) -> bool:
        return bool(resolved(translated, {"Condition": condition}, **{parameter: name}))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "Fn::If" in node and node["Fn::If"][0].endswith("NameIsAbsolute"):
                branches = node["Fn::If"]
                if any(
                    isinstance(b, dict) and "${" + parameter + "}" in str(b.get("Fn::Sub", "")) for b in branches[1:]
                ):
                    chosen = branches[1] if holds(branches[0]) else branches[2]
                    found.add(chosen["Fn::Sub"].replace("${" + parameter + "}", name).split(":parameter", 1)[1])
                    return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in translated["Resources"].items() if v["Type"] == "AWS::IAM::Role"})
    return found


@pytest.mark.parametrize(
    "parameter", ["GitHubTokenParameter", "DiscordBotTokenParameter", "GitHubWebhookSecretParameter"]
)
def test_ssm_parameter_names_work_with_or_without_a_leading_slash(translated: dict[str, Any], parameter: str) -> None:
    assert parameter_arns(translated, parameter, "/orchestrator/token") == {"/orchestrator/token"}
    assert parameter_arns(translated, parameter, "orchestrator-token") == {"/orchestrator-token"}


def test_a_customer_kms_key_is_granted_only_when_given(translated: dict[str, Any]) -> None:
    for name in ("AlarmRole", "InteractionsRole", "WorkerRole"):
        statements = translated["Resources"][name]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        [grant] = [s["Fn::If"] for s in statements if "Fn::If" in s and s["Fn::If"][0] == "HasKmsKey"]
        assert grant[1]["Action"] == "kms:Decrypt" and grant[1]["Resource"] == {"Ref": "SecretsKmsKeyArn"}
        # Only for decrypting through SSM (the SecureStrings), not any use of the key.
        assert grant[1]["Condition"] == {
            "StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}}
        }
        assert grant[2] == {"Ref": "AWS::NoValue"}
    statement = {"Fn::If": ["HasKmsKey", "granted", {"Ref": "AWS::NoValue"}]}
    assert resolved(translated, statement) is NO_VALUE
    assert resolved(translated, statement, SecretsKmsKeyArn=KEY_ARN) == "granted"


KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        (KEY_ARN, True),
        (KEY_ARN.replace("arn:aws:", "arn:aws-us-gov:"), True),
        (KEY_ARN.replace("arn:aws:", "arn:aws-cn:"), True),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", False),  # a key id alone
        ("arn:aws:kms:eu-west-1:123456789012:alias/secrets", False),  # IAM grants on keys, not aliases
        (KEY_ARN.replace(":kms:", ":s3:"), False),
        (KEY_ARN + " ", False),
    ],
)
def test_the_kms_key_parameter_takes_a_key_arn_or_nothing(value: str, accepted: bool) -> None:
    spec = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))["Parameters"]["SecretsKmsKeyArn"]
    assert spec["Default"] == ""
    # CloudFormation matches AllowedPattern against the whole value.
    assert (re.fullmatch(spec["AllowedPattern"], value) is not None) == accepted


def test_monitoring_sees_what_discord_sees_and_alerts_cannot_vanish(translated: dict[str, Any]) -> None:
    alarms = resources_of(translated, "AWS::CloudWatch::Alarm")
    latency = alarms["AckLatencyAlarm"]["Properties"]
    assert latency["MetricName"] == "UrlRequestLatency"  # arrival to answer, init included
    assert latency["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "InteractionsFunction"}}]
    assert latency["Namespace"] == "AWS/Lambda" and latency["ExtendedStatistic"] == "p99"
    assert (
        latency["ComparisonOperator"] == "GreaterThanThreshold" and 0 < latency["Threshold"] < 3000
    )  # ms: before Discord's deadline
    throttles = alarms["InteractionsThrottlesAlarm"]["Properties"]
    assert throttles["MetricName"] == "Throttles"
    assert throttles["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "InteractionsFunction"}}]
    errors = alarms["AlarmFunctionErrorsAlarm"]["Properties"]
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "AlarmFunction"}}]
    assert "AlarmDeadLetterAlarm" in alarms
    [invoke_config] = resources_of(translated, "AWS::Lambda::EventInvokeConfig").values()
    on_failure = invoke_config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    assert on_failure == {"Fn::GetAtt": ["AlarmDeadLetterQueue", "Arn"]}
    statements = translated["Resources"]["AlarmRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": on_failure} in statements
