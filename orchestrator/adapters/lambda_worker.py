"""Lambda handler for the SQS-fed worker: each batch goes through `process_batch`,
which reports failing messages one by one (ReportBatchItemFailures).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestrator.adapters.secrets import ssm_secret
from orchestrator.adapters.sqs_batch import process_batch
from orchestrator.commands.loader import load_commands
from orchestrator.composition.worker import build_worker
from orchestrator.interactions.buttons import signer_from_secret
from orchestrator.observability.logging import configure_logging
from orchestrator.observability.metrics import EmfMetrics, emit_cold_start
from orchestrator.observability.setup import install_redactor
from orchestrator.queues.sqs import SQS_CLIENT_CONFIG, SqsQueue
from orchestrator.settings import Role, load_settings
from orchestrator.state.store import open_state_store

logger = configure_logging("worker", level=os.environ.get("LOG_LEVEL", "INFO"))

# Unlike the interactions function, a worker without valid settings cannot do anything useful:
# failing at init makes every message retry and then dead-letter, which the DLQ alarm reports.
settings = load_settings(roles={Role.WORKER}, resolve_secret=ssm_secret)
commands = load_commands(settings.commands_file)
install_redactor(settings, commands)
assert settings.work_queue_url is not None  # the worker queues its own polls
queue = SqsQueue(boto3.client("sqs", config=SQS_CLIENT_CONFIG), settings.work_queue_url)
signer = signer_from_secret(settings.button_secret)
worker = build_worker(settings, commands, open_state_store(settings.state_store), EmfMetrics(), queue, signer)
emit_cold_start("worker")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # Must match the queue's redrive policy in template.yaml: on the last receive we tell the user.
    return process_batch(worker, event, context, max_receives=settings.worker_max_receives)
