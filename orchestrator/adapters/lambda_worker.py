"""Lambda handler for the SQS-fed worker, through Powertools batch processing.

A failing message is reported back to SQS alone (ReportBatchItemFailures), so
one bad job never re-runs the batch's good ones; after the queue's
maxReceiveCount it lands in the dead-letter queue.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestrator.adapters.secrets import ssm_secret
from orchestrator.commands.loader import load_commands
from orchestrator.interactions.buttons import signer_from_secret
from orchestrator.jobs.worker import JobWorker
from orchestrator.observability.logging import configure_logging
from orchestrator.observability.metrics import EmfMetrics, emit_cold_start
from orchestrator.observability.setup import install_redactor
from orchestrator.queues.sqs import SQS_CLIENT_CONFIG, SqsQueue
from orchestrator.settings import Role, load_settings
from orchestrator.state.store import open_state_store

logger = configure_logging("worker", level=os.environ.get("LOG_LEVEL", "INFO"))
# Must match the queue's redrive policy in template.yaml: on the last receive we tell the user.
MAX_RECEIVES = int(os.environ.get("WORKER_MAX_RECEIVES", "5"))

# Unlike the interactions function, a worker without valid settings cannot do anything useful:
# failing at init makes every message retry and then dead-letter, which the DLQ alarm reports.
settings = load_settings(roles={Role.WORKER}, resolve_secret=ssm_secret)
commands = load_commands(settings.commands_file)
install_redactor(settings, commands)
assert settings.work_queue_url is not None  # the worker queues its own polls
queue = SqsQueue(boto3.client("sqs", config=SQS_CLIENT_CONFIG), settings.work_queue_url)
signer = signer_from_secret(settings.button_secret)
worker = JobWorker.from_settings(
    settings, commands, open_state_store(settings.state_store), EmfMetrics(), queue, signer
)
# A batch where every item failed is still reported item by item, not raised: SQS retries the same
# messages either way, and the handler's own errors stay meaningful for the errors alarm.
emit_cold_start("worker")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    def record_handler(record: SQSRecord) -> None:
        final = int(record.attributes.approximate_receive_count) >= MAX_RECEIVES
        sent_at = int(record.attributes.sent_timestamp) / 1000
        worker.process(record.body, context=context, final_attempt=final, sent_at=sent_at)

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
