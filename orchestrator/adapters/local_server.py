"""`serve`: the deployed function URL's routes on loopback, with the worker in the same process."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestrator.commands.loader import load_commands
from orchestrator.composition.web import build_web_app
from orchestrator.composition.worker import build_worker
from orchestrator.interactions.buttons import signer_from_secret
from orchestrator.jobs.envelopes import BadJobMessage
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.observability.metrics import MemoryMetrics
from orchestrator.observability.setup import install_redactor
from orchestrator.observability.trace_ids import new_trace_id
from orchestrator.queues.local import DRAIN_SECONDS, JOB_TIME_LIMIT_SECONDS, LocalQueue
from orchestrator.queues.stored import open_queue_store
from orchestrator.settings import Settings
from orchestrator.state.store import StateStore, open_state_store
from orchestrator.web.app import WebApp
from orchestrator.web.http import HttpRequest, HttpResponse, error_response

# Larger bodies are refused before they are read: nothing we serve needs more.
MAX_REQUEST_BYTES = 1024 * 1024
# Up to this size an oversized body is read and dropped before the 413; past it we hang up.
DRAIN_LIMIT_BYTES = 8 * MAX_REQUEST_BYTES
# A client that sends nothing for this long is hung up on: a stalled socket must not hold a thread.
READ_TIMEOUT_SECONDS = 10.0
# Connections served at once, each on its own thread; past it a client is answered 503 at once.
MAX_CONNECTIONS = 64
# The kernel's queue of connections not yet accepted: a burst (50 at once) must not overflow the
# standard library's 5, which drops SYNs that clients retry only a second later.
LISTEN_BACKLOG = 128
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b'Connection: close\r\nContent-Length: 37\r\n\r\n{"error":"too many open connections"}'
)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle's algorithm on, the body of an answer on a
    # kept-alive connection waits for the client's delayed ACK of the headers (~40 ms on Linux).
    disable_nagle_algorithm = True
    timeout = READ_TIMEOUT_SECONDS  # socketserver applies it to every read of the connection

    def _serve(self) -> None:
        trace_id = new_trace_id()
        with log_context(trace_id=trace_id):
            self._serve_traced(trace_id)

    def _serve_traced(self, trace_id: str) -> None:
        started = time.perf_counter()
        response = self._respond(trace_id)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")  # or the client would reuse a socket we are closing
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)
        get_logger().info(
            "http request",
            extra={
                "method": self.command,
                "path": self.path.split("?", 1)[0],
                "status": response.status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )

    def _respond(self, trace_id: str) -> HttpResponse:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            try:
                chunked = self._read_chunked()
            except ValueError:
                self.close_connection = True
                return error_response(400, "malformed chunked body")
            if chunked is None:
                self.close_connection = True
                return error_response(413, "request body too large")
            body = chunked
        else:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                self.close_connection = True
                return error_response(400, "bad Content-Length")
            if length < 0 or length > MAX_REQUEST_BYTES:
                self.close_connection = True  # the unread body must not be parsed as the next request
                if 0 < length <= DRAIN_LIMIT_BYTES:
                    # Read and drop it, so the client gets our 413 rather than a reset mid-upload.
                    self._drain(length)
                return error_response(413, "request body too large")
            body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        path = self.path.split("?", 1)[0]
        return self.server.app.handle(HttpRequest(self.command, path, headers, body, trace_id))

    def _read_chunked(self) -> bytes | None:
        """The body of a chunked request; None when it grows past the limit; ValueError if malformed."""
        body = bytearray()
        while True:
            size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"x", 16)
            if size < 0:
                raise ValueError("negative chunk size")
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailer lines, until the blank one
                    pass
                return bytes(body)
            if len(body) + size > MAX_REQUEST_BYTES:
                return None
            body += self.rfile.read(size)
            self.rfile.readline(8)  # the CRLF after each chunk

    def _drain(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 64 * 1024))
            if not chunk:
                return
            length -= len(chunk)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: object) -> None:
        """Access lines go through the JSON logger in _serve, not to stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], app: WebApp) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            busy = len(self._connections) >= MAX_CONNECTIONS
            if not busy:
                self._connections.add(request)
        if busy:
            # No thread for it: a bounded answer, on the accepting thread, then hang up.
            get_logger().warning("connection refused: too many open", extra={"open": MAX_CONNECTIONS})
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on kept-alive clients too: after stop, nothing answers."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class LocalRuntime:
    """The HTTP server, the in-process queue and the worker, started and stopped together.
    `http=False` (the gateway mode): the queue and the worker only; interactions come to `app`."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "127.0.0.1",
        port: int = 8787,
        workers: int = 2,
        job_time_limit: float = JOB_TIME_LIMIT_SECONDS,
        http: bool = True,
    ) -> None:
        commands = load_commands(settings.commands_file)
        install_redactor(settings, commands)
        self.state: StateStore = open_state_store(settings.state_store)
        self.metrics = MemoryMetrics()
        signer = signer_from_secret(settings.button_secret)
        self.queue = LocalQueue(
            self._run_job,
            open_queue_store(settings.state_store),
            workers=workers,
            poison=(BadJobMessage,),
            job_time_limit=job_time_limit,
        )
        self.worker = build_worker(settings, commands, self.state, self.metrics, self.queue, signer)
        self.app = build_web_app(settings, commands, self.queue, signer=lambda: signer, state=self.state)
        self._server = _Server((host, port), self.app) if http else None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            return ""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _run_job(self, body: str, context: LambdaContext, final_attempt: bool, sent_at: float) -> None:
        self.worker.process(body, context=context, final_attempt=final_attempt, sent_at=sent_at)

    def start(self) -> None:
        self.queue.start()
        if self._server is not None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)
            self._thread.start()
            get_logger().info("serving", extra={"url": self.url})

    def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Stop answering first (no new command is taken), then let the jobs under way end, within
        `drain_seconds`; every message not done stays queued for the next start."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
        if self._thread is not None:
            self._thread.join(5)
        drained = self.queue.stop(drain_seconds)
        get_logger().info("stopped", extra={"drained": drained, "queued_for_next_start": self.queue.pending()})
