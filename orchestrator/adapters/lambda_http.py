"""Lambda function URL events to and from the transport-neutral request/response."""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any

from orchestrator.observability.trace_ids import new_trace_id
from orchestrator.web.http import HttpRequest, HttpResponse


class UndecodableBody(ValueError):
    pass


def request_from_function_url(event: dict[str, Any]) -> HttpRequest:
    http = event.get("requestContext", {}).get("http", {})
    raw_body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw_body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise UndecodableBody("body is not valid base64") from exc
    else:
        body = raw_body.encode("utf-8", "surrogatepass")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return HttpRequest(
        # Lambda sets the invocation's X-Ray header here; our trace id is derived from its root.
        trace_id=new_trace_id(os.environ.get("_X_AMZN_TRACE_ID")),
        method=str(http.get("method", "GET")).upper(),
        path=str(event.get("rawPath", "/")),
        headers=headers,
        body=body,
    )


def function_url_response(response: HttpResponse) -> dict[str, Any]:
    return {
        "statusCode": response.status,
        "headers": dict(response.headers),
        "body": response.body.decode("utf-8"),
        "isBase64Encoded": False,
    }
