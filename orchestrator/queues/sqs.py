"""The SQS queue the worker Lambda reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from orchestrator.queues.base import QueueUnavailable

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# The ACK must reach Discord within 3 s: an SQS call that hangs must fail fast enough to say so.
SQS_CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 2, "mode": "standard"})
# The ACK path's clients (SQS, and DynamoDB for rate limits and confirmations): the same timeouts,
# and no client-side validation of the parameters, which our code builds and the service checks
# anyway (it was a third of botocore's CPU per call).
ACK_CLIENT_CONFIG = SQS_CLIENT_CONFIG.merge(Config(parameter_validation=False))
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
