"""CloudWatch alarm notifications, as SNS delivers them, become alerts."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.alerts.alarms import alarm_alert


def alarm(state: str, name: str = "orchestrator-DeadLetterAlarm-1ABC") -> dict[str, Any]:
    """The Message body CloudWatch publishes to SNS for an alarm state change."""
    return {
        "AlarmName": name,
        "AlarmDescription": 'Jobs reached the dead-letter queue (see RUNBOOK "DLQ growing").',
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2026-11-22T03:00:00.000+0000",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [3.0 (22/11/26 04:40:00)] was greater than or equal to the threshold (1.0).",
        "StateChangeTime": "2026-11-22T04:45:12.123+0000",
        "Region": "EU (Ireland)",
        "AlarmArn": f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}",
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "OKActions": ["arn:aws:sns:eu-west-1:123456789012:orchestrator-AlarmTopic"],
        "AlarmActions": ["arn:aws:sns:eu-west-1:123456789012:orchestrator-AlarmTopic"],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Namespace": "AWS/SQS",
            "StatisticType": "Statistic",
            "Statistic": "MAXIMUM",
            "Unit": None,
            "Dimensions": [{"value": "orchestrator-WorkDeadLetterQueue", "name": "QueueName"}],
            "Period": 300,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1.0,
            "TreatMissingData": "notBreaching",
        },
    }


def test_alarm_raises_a_critical_alert() -> None:
    alert = alarm_alert(json.dumps(alarm("ALARM")))
    assert alert is not None
    assert alert.severity == "critical" and alert.source.startswith("alarm:")
    assert "dead-letter" in alert.cause and "Threshold Crossed" in alert.cause


def test_ok_resolves_with_its_own_fingerprint() -> None:
    fired, resolved = alarm_alert(json.dumps(alarm("ALARM"))), alarm_alert(json.dumps(alarm("OK")))
    assert fired is not None and resolved is not None
    assert resolved.severity == "resolved"
    assert fired.fingerprint() != resolved.fingerprint()


def test_repeated_notifications_share_a_fingerprint() -> None:
    first = alarm("ALARM")
    second = {**alarm("ALARM"), "NewStateReason": first["NewStateReason"].replace("3.0", "7.0")}
    one, two = alarm_alert(json.dumps(first)), alarm_alert(json.dumps(second))
    assert one is not None and two is not None and one.fingerprint() == two.fingerprint()


def test_other_messages_are_not_alerts() -> None:
    assert alarm_alert(json.dumps(alarm("INSUFFICIENT_DATA"))) is None
    assert alarm_alert("not json") is None
    assert alarm_alert(json.dumps({"hello": "world"})) is None


def test_a_non_critical_alarm_is_an_error() -> None:
    alert = alarm_alert(json.dumps(alarm("ALARM", name="orchestrator-AckLatencyAlarm-XYZ")))
    assert alert is not None and alert.severity == "error"


def test_a_real_sns_notification_posts_one_alert_and_repeats_are_suppressed() -> None:
    """The alarm function's path: SNS record → alert → the shared dedupe → one post."""
    from orchestrator.alerts.alerter import Alerter
    from orchestrator.clients.discord_api import DiscordClient
    from orchestrator.observability.metrics import MemoryMetrics
    from orchestrator.state.memory import MemoryAlertStore
    from orchestrator_dev.standins.fake_discord import FakeDiscord

    bot_token = "MTE1MDAwMDAwMDAwMDAwMDAwMDE.Galarm.alarm-test-token-0123456789abcdef"
    with FakeDiscord("1150000000000000001", bot_token=bot_token) as discord:
        import httpx

        with httpx.Client(timeout=5) as http:
            client = DiscordClient(http, discord.api_url, "1150000000000000001", bot_token=bot_token)
            alerter = Alerter(MemoryAlertStore(), client, "1150000000000000099", MemoryMetrics(), enabled=True)
            sns_record = {
                "EventSource": "aws:sns",
                "Sns": {"Type": "Notification", "Message": json.dumps(alarm("ALARM"))},
            }
            for _ in range(3):
                fired = alarm_alert(sns_record["Sns"]["Message"])  # type: ignore[index]
                assert fired is not None
                alerter.raise_alert(fired)
            resolved = alarm_alert(json.dumps(alarm("OK")))
            assert resolved is not None and alerter.raise_alert(resolved)
        posts = discord.channel_messages("1150000000000000099")
    assert [p["embeds"][0]["title"].split(" · ")[0] for p in posts] == ["🔴 CRITICAL", "✅ RESOLVED"]
