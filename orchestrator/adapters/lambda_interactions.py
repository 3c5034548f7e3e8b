"""Lambda handler behind the function URL: Discord interactions and GitHub webhooks.

This module is the ACK's cold path. It imports only what answering needs: PyNaCl, boto3 for SQS
and DynamoDB, the Powertools Logger and Metrics. No httpx, no discord.py, no worker code, and no
PyYAML when the build compiled the commands file (commands/compiled.py). Every client a command
may use is built here, at init, so that the first command after a cold start waits for none of them.
"""

from __future__ import annotations

import gc

# No cyclic GC while the cold start builds boto3's and our long-lived objects: with boto3 loaded a
# full collection costs ~15 ms and would run several times before the first answer. After init,
# gc.freeze() parks those objects in the permanent generation so later collections skip them.
gc.disable()

import os  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

import boto3  # noqa: E402

from orchestrator.adapters.ack_clients import ACK_QUEUE_CONFIG, ACK_STATE_CONFIG  # noqa: E402
from orchestrator.adapters.lambda_http import (  # noqa: E402
    UndecodableBody,
    function_url_response,
    request_from_function_url,
)
from orchestrator.adapters.priming import prime_queue, prime_state  # noqa: E402
from orchestrator.adapters.secrets import ssm_secret  # noqa: E402
from orchestrator.adapters.snapstart import (  # noqa: E402
    Closable,
    connections_dropper,
    forget_cached_parameters,
    log_restored,
    register_hooks,
    reseed_random,
)
from orchestrator.commands.loader import CommandsFileError, load_commands  # noqa: E402
from orchestrator.composition.web import build_web_app  # noqa: E402
from orchestrator.interactions.buttons import signer_from_secret  # noqa: E402
from orchestrator.observability.logging import configure_logging  # noqa: E402
from orchestrator.observability.metrics import emit_cold_start  # noqa: E402
from orchestrator.observability.setup import install_redactor  # noqa: E402
from orchestrator.queues.sqs import SqsQueue  # noqa: E402
from orchestrator.settings import Role, SettingsError, load_settings  # noqa: E402
from orchestrator.state.store import StateStore, dynamodb_state_store, open_state_store  # noqa: E402
from orchestrator.state.url import parse_state_store_url  # noqa: E402
from orchestrator.web.app import WebApp  # noqa: E402
from orchestrator.web.http import HttpResponse, error_response  # noqa: E402
from orchestrator.web.lazy import Lazy  # noqa: E402

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = configure_logging("interactions", level=os.environ.get("LOG_LEVEL", "INFO"))


def _build(clients: list[Closable]) -> WebApp | None:
    # Built once per cold start; a broken configuration answers 503 (and says why in the log)
    # instead of failing every invocation with an import error. The AWS clients built go to `clients`.
    try:
        settings = load_settings(roles={Role.INTERACTIONS}, resolve_secret=ssm_secret)
        commands = load_commands(settings.commands_file)
        install_redactor(settings, commands)
        assert settings.work_queue_url is not None  # load_settings requires it in Lambda
        queue_client = boto3.client("sqs", config=ACK_QUEUE_CONFIG)
        clients.append(queue_client)
        queue = SqsQueue(queue_client, settings.work_queue_url)
        prime_queue(queue_client)  # once the client is in its final shape, as the state's below
        state = _open_state(settings.state_store, clients)
    except (SettingsError, CommandsFileError) as exc:
        logger.error("configuration invalid: answering 503", extra={"problems": exc.problems})
        return None
    return build_web_app(
        settings,
        commands,
        queue,
        # Read on first use: only button presses and confirmations need it (an SSM call).
        signer=Lazy(lambda: signer_from_secret(settings.button_secret)),
        state=state,
    )


def _open_state(url: str, clients: list[Closable]) -> StateStore:
    """On DynamoDB (as deployed), through a client configured and primed for the ACK path."""
    parsed = parse_state_store_url(url)
    if parsed.table is None:
        return open_state_store(url)
    client = boto3.client("dynamodb", config=ACK_STATE_CONFIG)
    clients.append(client)
    store = dynamodb_state_store(client, parsed.table)
    # Primed last, once the client is in its final shape: any handler registered on it later (as
    # Powertools Idempotency's layer does when the worker opens it) empties botocore's cache of the
    # handlers per event, which the first command would then fill again (each event a cache miss).
    prime_state(client, parsed.table)
    return store


ack_clients: list[Closable] = []
app = _build(ack_clients)
# With SnapStart (InteractionsSnapStart) the init above runs once, before the snapshot; each
# environment restored from it is Discord's cold start, and must not share the snapshot's state.
register_hooks(
    before_snapshot=[forget_cached_parameters],
    after_restore=[
        reseed_random,
        connections_dropper(ack_clients),
        forget_cached_parameters,
        log_restored,
        lambda: emit_cold_start("interactions"),
    ],
)
emit_cold_start("interactions")
gc.freeze()
gc.enable()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if app is None:
        return function_url_response(error_response(503, "bot misconfigured: see its logs"))
    try:
        request = request_from_function_url(event)
    except UndecodableBody as exc:
        return function_url_response(error_response(400, str(exc)))
    response: HttpResponse = app.handle(request)
    return function_url_response(response)
