"""Transport-neutral request and response: adapters convert to and from these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from orchestrator.serialization import dumps

JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # names lowercased by the adapter
    body: bytes = b""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


def json_response(status: int, payload: object) -> HttpResponse:
    return HttpResponse(status, dumps(payload), {"content-type": JSON_CONTENT_TYPE})


def error_response(status: int, message: str) -> HttpResponse:
    return json_response(status, {"error": message})
