"""An SQS batch through the worker, with Powertools batch processing.

A failing message is reported back to SQS alone (ReportBatchItemFailures), so
one bad job never re-runs the batch's good ones; after the queue's
maxReceiveCount it lands in the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestrator.jobs.worker import JobWorker


def process_batch(
    worker: JobWorker, event: dict[str, Any], context: LambdaContext, *, max_receives: int
) -> PartialItemFailureResponse:
    """Hand each message to the worker; the ones it raised for are the batch's item failures.
    On a message's `max_receives`-th receive the worker knows it is the last and tells the user."""

    def record_handler(record: SQSRecord) -> None:
        final = int(record.attributes.approximate_receive_count) >= max_receives
        sent_at = int(record.attributes.sent_timestamp) / 1000
        worker.process(record.body, context=context, final_attempt=final, sent_at=sent_at)

    # A batch where every item failed is still reported item by item, not raised: SQS retries the same
    # messages either way, and the handler's own errors stay meaningful for the errors alarm.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
