"""Imports each Lambda handler from a built artifact, as Lambda would: run by the runtime's Python
with `-I -S`, so that only the artifact and the standard library can be imported. Standard library
only: nothing of this checkout or its virtualenv is on the path.

    python3.13 -I -S probe.py ARTIFACT_DIR module.handler ...

Prints one line per handler and exits non-zero, naming the problem, when a handler cannot be
imported, a module came from outside the artifact, a module had no compiled file to load, the
interactions function imports PyYAML at init (its commands file not compiled) or does not answer
Discord's PING, or a client of a service in PROBE_AWS_SERVICES cannot be built (its botocore model
was left out).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

# A syntactically valid interactions function URL event for Discord's PING.
_PING_BODY = '{"type":1}'


class ProbeContext:
    """What Powertools' inject_lambda_context reads from Lambda's context object."""

    function_name = "artifact-probe"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:artifact-probe"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/artifact-probe"
    log_stream_name = "probe"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


def _signed_ping() -> tuple[str, dict[str, Any]]:
    """A fresh key pair (the public half for the function's settings) and a PING signed with it."""
    from nacl.signing import SigningKey  # from the artifact

    key = SigningKey.generate()
    timestamp = str(int(time.time()))
    signature = key.sign((timestamp + _PING_BODY).encode()).signature.hex()
    event = {
        "version": "2.0",
        "rawPath": "/interactions",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "x-signature-ed25519": signature,
            "x-signature-timestamp": timestamp,
        },
        "requestContext": {"http": {"method": "POST", "path": "/interactions"}},
        "body": _PING_BODY,
        "isBase64Encoded": False,
    }
    return key.verify_key.encode().hex(), event


def _outside_modules(artifact: Path) -> list[str]:
    """Modules loaded from anywhere but the artifact and the standard library."""
    allowed = [artifact.resolve()] + [Path(sysconfig.get_paths()[name]).resolve() for name in ("stdlib", "platstdlib")]
    outside = []
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if name in {"__main__", "__mp_main__"}:  # this probe (multiprocessing names it twice)
            continue
        if origin and not any(Path(origin).resolve().is_relative_to(root) for root in allowed):
            outside.append(f"{name} ({origin})")
    return outside


def _uncompiled_modules(artifact: Path) -> list[str]:
    """The artifact's modules that Lambda would compile at every cold start (no .pyc beside them)."""
    missing = []
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None)
        if origin and origin.endswith(".py") and Path(origin).resolve().is_relative_to(artifact.resolve()):
            cached = getattr(spec, "cached", None)
            if not cached or not os.path.exists(cached):
                missing.append(name)
    return missing


def _client_problems(services: list[str]) -> list[str]:
    """Building a client loads the service's model: one left out of the artifact fails here, not in
    production."""
    import boto3  # from the artifact

    problems = []
    for service in services:
        try:
            boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]
        except Exception as exc:  # noqa: BLE001 - any failure to build the client is the finding
            problems.append(f"no {service} client from the artifact: {type(exc).__name__}: {exc}")
        else:
            print(f"built a {service} client from the artifact")
    return problems


def main(argv: list[str]) -> int:
    artifact, handlers = Path(argv[0]), argv[1:]
    sys.path.insert(0, str(artifact))
    sys.dont_write_bytecode = True  # Lambda's code folder is read-only
    public_key, ping = _signed_ping()
    os.environ["DISCORD_PUBLIC_KEY"] = public_key
    problems = []
    for handler in handlers:
        module_name, _, function_name = handler.rpartition(".")
        yaml_loaded = "yaml" in sys.modules
        try:
            module = importlib.import_module(module_name)
            function = getattr(module, function_name)
        except Exception as exc:  # noqa: BLE001 - any failure to import is the finding
            problems.append(f"{handler}: cannot be imported: {type(exc).__name__}: {exc}")
            continue
        if module_name.endswith("lambda_interactions"):
            if not yaml_loaded and "yaml" in sys.modules:
                problems.append(f"{handler}: imported PyYAML at init (commands.yaml.json missing or stale?)")
            response = function(ping, ProbeContext())
            if response.get("statusCode") != 200 or json.loads(response.get("body") or "{}") != {"type": 1}:
                problems.append(f"{handler}: answered a signed PING with {response}")
        print(f"imported {handler} from {artifact}")
    problems += _client_problems(os.environ.get("PROBE_AWS_SERVICES", "").split())
    problems += [f"loaded from outside the artifact: {name}" for name in _outside_modules(artifact)]
    problems += [f"no compiled file in the artifact for {name}" for name in _uncompiled_modules(artifact)]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
