"""template.yaml: cfn-lint clean, accepted by SAM's own transform, and wired to the code that exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from samtranslator.yaml_helper import yaml_parse

from tests.conftest import REPO_ROOT
from tests.deploy import cfn_eval as cfn
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


ROLES = ("AlarmRole", "InteractionsRole", "WorkerRole")


def policy_statements(template: dict[str, Any], role: str, values: dict[str, str]) -> list[dict[str, Any]]:
    """The role's policy statements as CloudFormation creates them with these parameter values."""
    policies = cfn.resolve(template["Resources"][role]["Properties"]["Policies"], template, values)
    return [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_condition_of_the_template_is_evaluated(translated: dict[str, Any]) -> None:
    """Each condition is within what the evaluator knows, with the defaults and with everything set."""
    everything = cfn.parameter_values(
        translated,
        DiscordBotTokenParameter="/orchestrator/bot-token",
        GitHubWebhookSecretParameter="/orchestrator/webhook-secret",
        AlertChannelId="123456789012345678",
        InteractionsReservedConcurrency="10",
        SecretsKmsKeyArn=KEY_ARN,
    )
    for values in (cfn.parameter_values(translated), everything):
        results = {name: cfn.condition(translated, name, values) for name in translated["Conditions"]}
        assert all(isinstance(result, bool) for result in results.values())
    assert all(cfn.condition(translated, name, everything) for name in translated["Conditions"])


@pytest.mark.parametrize(
    "expression",
    [
        {"Fn::GetAtt": ["WorkQueue", "Arn"]},
        {"Fn::If": ["HasBotToken", "a", "b"]},
        {"Ref": "AWS::Region"},  # a pseudo parameter: not in the template's conditions
        {"Ref": "WorkQueue"},  # a resource
        {"Condition": "NoSuchCondition"},
        {"Fn::Not": [{"Condition": "HasBotToken"}, {"Condition": "HasKmsKey"}]},
        {"Fn::Not": ["true"]},  # a string, not a condition
        {"Fn::And": [{"Condition": "HasBotToken"}]},  # one operand: CloudFormation wants 2 to 10
        {"Fn::Equals": [{"Fn::Split": ["/", "a/b"]}, ""]},  # a list is not a string
        {"Fn::Equals": [{"Fn::Select": [2, {"Fn::Split": ["/", "a/b"]}]}, ""]},  # out of range
        {"Fn::Equals": [{"Fn::Select": [0, {"Fn::Split": ["", "a/b"]}]}, ""]},
        "true",
    ],
)
def test_the_evaluator_refuses_what_it_does_not_know(translated: dict[str, Any], expression: Any) -> None:
    template = {**translated, "Conditions": {**translated["Conditions"], "UnderTest": expression}}
    with pytest.raises(cfn.NotEvaluated):
        cfn.condition(template, "UnderTest", cfn.parameter_values(template))


@pytest.mark.parametrize("reserved", ["1", "10"])
def test_a_first_deploy_reserves_no_concurrency(translated: dict[str, Any], reserved: str) -> None:
    """Reserving needs an account quota new accounts do not have: off unless asked for."""
    properties = translated["Resources"]["InteractionsFunction"]["Properties"]
    default = cfn.resolve(properties, translated, cfn.parameter_values(translated))
    assert "ReservedConcurrentExecutions" not in default  # none reserved (0 reserved would block every request)
    values = cfn.parameter_values(translated, InteractionsReservedConcurrency=reserved)
    asked = cfn.resolve(properties, translated, values)
    assert cfn.text(asked["ReservedConcurrentExecutions"], values) == reserved


# The roles that read each SSM parameter (the functions whose environment names it).
READERS = {
    "GitHubTokenParameter": {"WorkerRole"},
    "DiscordBotTokenParameter": {"WorkerRole", "AlarmRole"},
    "GitHubWebhookSecretParameter": {"InteractionsRole"},
}


def name_conditions(template: dict[str, Any]) -> dict[str, str]:
    """Each "...NameIsAbsolute" condition and the parameter it reads."""

    def refs(node: Any) -> set[str]:
        if isinstance(node, dict):
            return {node["Ref"]} if list(node) == ["Ref"] else set().union(*map(refs, node.values()))
        return set().union(*map(refs, node)) if isinstance(node, list) else set()

    found = {}
    for name, expression in template["Conditions"].items():
        if name.endswith("NameIsAbsolute"):
            [parameter] = refs(expression)
            found[name] = parameter
    return found


def test_each_ssm_name_condition_says_whether_the_name_starts_with_a_slash(translated: dict[str, Any]) -> None:
    conditions = name_conditions(translated)
    assert sorted(conditions.values()) == sorted(READERS)
    for name, parameter in conditions.items():
        for value, absolute in [("/a/b", True), ("/a", True), ("a/b", False), ("a", False), ("a/", False)]:
            values = cfn.parameter_values(translated, **{parameter: value})
            assert cfn.condition(translated, name, values) is absolute, (name, value)


@pytest.mark.parametrize("parameter", sorted(READERS))
@pytest.mark.parametrize("name", ["/under-test/token", "under-test-token"])
def test_ssm_parameter_names_work_with_or_without_a_leading_slash(
    translated: dict[str, Any], parameter: str, name: str
) -> None:
    """An SSM parameter's ARN is ...:parameter/<name without its leading slash>, whichever way it is given."""
    values = cfn.parameter_values(translated, **{parameter: name})
    expected = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/" + name.removeprefix("/")
    for role in ROLES:
        granted = {
            cfn.text(resource, values)
            for statement in policy_statements(translated, role, values)
            if "ssm:GetParameter" in as_list(statement["Action"])
            for resource in as_list(statement["Resource"])
        }
        assert {arn for arn in granted if "under-test" in arn} == (
            {expected} if role in READERS[parameter] else set()
        ), role


KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REGION = {"AWS::Region": "eu-west-1", "AWS::URLSuffix": "amazonaws.com", "AWS::Partition": "aws"}


def test_a_customer_kms_key_is_granted_only_when_given(translated: dict[str, Any]) -> None:
    def kms(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [s for s in statements if any(str(action).startswith("kms:") for action in as_list(s["Action"]))]

    for role in ROLES:
        assert kms(policy_statements(translated, role, cfn.parameter_values(translated))) == [], role
        values = cfn.parameter_values(translated, SecretsKmsKeyArn=KEY_ARN)
        [grant] = kms(policy_statements(translated, role, values))
        grant = cfn.concrete(grant, values, REGION)
        assert grant["Effect"] == "Allow" and as_list(grant["Action"]) == ["kms:Decrypt"], role
        assert as_list(grant["Resource"]) == [KEY_ARN], role
        # Only for decrypting through SSM in the stack's region (the SecureStrings), not any use of the key.
        assert grant["Condition"] == {"StringEquals": {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"}}, role


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        (KEY_ARN, True),
        (KEY_ARN.replace("arn:aws:", "arn:aws-us-gov:"), True),
        (KEY_ARN.replace("arn:aws:", "arn:aws-cn:"), True),
        ("arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab", True),  # multi-Region
        ("1234abcd-12ab-34cd-56ef-1234567890ab", False),  # a key id alone
        ("arn:aws:kms:eu-west-1:123456789012:alias/secrets", False),  # IAM grants on keys, not aliases
        (KEY_ARN.replace(":kms:", ":s3:"), False),  # another service
        (KEY_ARN.replace("arn:aws:", "arn:awsx:"), False),
        (KEY_ARN.replace("123456789012", "12345678901"), False),  # an 11-digit account
        (KEY_ARN.replace("eu-west-1", ""), False),  # no region
        ("arn:aws:kms:eu-west-1:123456789012:key/", False),  # no key id
        (KEY_ARN + "/x", False),
        (KEY_ARN + " ", False),
        (" " + KEY_ARN, False),
    ],
)
def test_the_kms_key_parameter_takes_a_key_arn_or_nothing(value: str, accepted: bool) -> None:
    spec = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))["Parameters"]["SecretsKmsKeyArn"]
    assert spec["Default"] == ""
    assert "ARN" in spec["ConstraintDescription"] and "empty" in spec["ConstraintDescription"]
    # CloudFormation matches AllowedPattern against the whole value.
    assert (re.fullmatch(spec["AllowedPattern"], value) is not None) == accepted


DISCORD_DEADLINE_MS = 3000  # Discord shows "The application did not respond" after 3 s


def runbook_section(title_start: str) -> str:
    text = (REPO_ROOT / "RUNBOOK.md").read_text(encoding="utf-8")
    [section] = [s for s in re.split(r"\n(?=#+ )", text) if s.startswith(f"### {title_start}")]
    return section


def test_the_latency_alarm_watches_what_discord_waits_for(translated: dict[str, Any]) -> None:
    latency = translated["Resources"]["AckLatencyAlarm"]["Properties"]
    # The function Discord calls: the one behind the function URL.
    [url] = resources_of(translated, "AWS::Lambda::Url").values()
    called = url["Properties"]["TargetFunctionArn"]["Ref"]
    assert translated["Resources"][called]["Type"] == "AWS::Lambda::Function"
    assert latency["Namespace"] == "AWS/Lambda"
    assert latency["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": called}}]
    # The URL's arrival-to-answer time (ms), cold starts included; Duration would leave init out.
    assert latency["MetricName"] == "UrlRequestLatency"
    # A high percentile: the slow answers, which an average hides.
    assert "Statistic" not in latency and re.fullmatch(r"p9\d(\.\d+)?", latency["ExtendedStatistic"])
    assert latency["ComparisonOperator"] in ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold")
    assert 0 < latency["Threshold"] < DISCORD_DEADLINE_MS  # it fires before users see the failure
    # The runbook describes the alarm the template creates.
    section = runbook_section("AckLatencyAlarm")
    assert f"{latency['ExtendedStatistic']} `{latency['MetricName']}`" in section
    assert f"over {latency['Threshold']:,} ms" in section


def test_monitoring_sees_throttles_and_alerts_cannot_vanish(translated: dict[str, Any]) -> None:
    alarms = resources_of(translated, "AWS::CloudWatch::Alarm")
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
