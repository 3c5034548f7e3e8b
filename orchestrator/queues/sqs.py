"""The SQS queue the worker Lambda reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from orchestrator.queues.base import QueueUnavailable

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# The worker's sends (a job put back with a delay, a follow-up): no 3-second deadline there, so
# three attempts ride out a blip. (`max_attempts` counts retries; the ACK path's clients are
# configured in adapters/ack_clients.py.)
SQS_CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 2, "mode": "standard"})
MAX_DELAY_SECONDS = 900  # SQS's limit


class SqsQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=body,
                DelaySeconds=max(0, min(delay_seconds, MAX_DELAY_SECONDS)),
            )
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(type(exc).__name__) from exc
