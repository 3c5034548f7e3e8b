"""Transport-neutral request and response: adapters convert to and from these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from orchestrator.observability.trace_ids import new_trace_id
from orchestrator.serialization import dumps

JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # names lowercased by the adapter
    body: bytes = b""
    # Set by the adapter (from the Lambda's X-Ray root when there is one): every log line of the
    # request carries it, and an interaction's trace takes it.
    trace_id: str = field(default_factory=new_trace_id)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


def json_response(status: int, payload: object) -> HttpResponse:
    return HttpResponse(status, dumps(payload), {"content-type": JSON_CONTENT_TYPE})


def error_response(status: int, message: str) -> HttpResponse:
    return json_response(status, {"error": message})
