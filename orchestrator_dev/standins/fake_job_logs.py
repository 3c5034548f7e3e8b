"""A stand-in for GitHub's log storage, and job logs written the way the Actions runner writes them.

GitHub answers `GET …/actions/jobs/{id}/logs` with a 302 to a short-lived signed URL on another
host; this server is that host. It takes no Authorization header (the signature in the URL is
the credential), and records every request so tests can check that the token never reaches it.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator_dev.standins.http_standin import Request, Response, StandinServer

# What a failing step prints, unless a test says otherwise: a test runner's last words.
DEFAULT_FAILURE_OUTPUT = (
    "FAILED tests/test_api.py::test_health - AssertionError: expected 200, got 503",
    "=========================== 1 failed, 41 passed in 3.21s ===========================",
)


class FakeLogStorage(StandinServer):
    server_header = "Windows-Azure-Blob/1.0"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self._logs: dict[int, bytes] = {}
        self._signatures: dict[int, str] = {}
        self._lock = threading.Lock()
        self.add_route("GET", r"/logs/(?P<job_id>\d+)", self._on_log)

    def publish(self, job_id: int, text: bytes) -> str:
        """Keep `text` as the job's log; return the signed URL GitHub's 302 points at."""
        signature = secrets.token_urlsafe(16)
        with self._lock:
            self._logs[job_id] = text
            self._signatures[job_id] = signature
        return f"{self.url}/logs/{job_id}?sig={signature}"

    def _on_log(self, request: Request, params: dict[str, str]) -> Response:
        job_id = int(params["job_id"])
        with self._lock:
            body, signature = self._logs.get(job_id), self._signatures.get(job_id)
        if body is None or request.query.get("sig") != signature:
            return Response(403, b"<Error><Code>AuthenticationFailed</Code></Error>", {"Content-Type": "text/xml"})
        return Response(200, body, {"Content-Type": "text/plain; charset=utf-8"})


def job_log(job: dict[str, Any], failure_output: tuple[str, ...] = DEFAULT_FAILURE_OUTPUT) -> bytes:
    """The job's log as the runner writes it: timestamps, `##[group]Run` per step, `##[error]`."""
    moment = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    lines: list[str] = []

    def say(text: str) -> None:
        nonlocal moment
        moment += timedelta(milliseconds=137)
        lines.append(f"{moment.strftime('%Y-%m-%dT%H:%M:%S.%f')}0Z {text}")

    for step in job.get("steps") or []:
        name, conclusion = step.get("name", ""), step.get("conclusion")
        if conclusion == "skipped":
            continue
        if step.get("number") == 1:
            say("Current runner version: '2.321.0'")
            say("##[group]Operating System")
            say("Ubuntu 24.04.1 LTS")
            say("##[endgroup]")
            continue
        if name == "Complete job":
            say("Cleaning up orphan processes")
            continue
        # A step named by default is named after its marker ("Run pytest"); a named one is not.
        say(f"##[group]{name}" if name.startswith("Run ") else f"##[group]Run ./{name.lower().replace(' ', '-')}.sh")
        say(f"\x1b[36;1m{name}\x1b[0m")
        say("shell: /usr/bin/bash -e {0}")
        say("##[endgroup]")
        if conclusion == "failure":
            for text in failure_output:
                say(text)
            say("##[error]Process completed with exit code 1.")
        else:
            say(f"{name}: done")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
