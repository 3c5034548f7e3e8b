"""Shared base of the API stand-ins: routing, a request log and fault injection, served on loopback
(`start()`, `url`) or in-process to an httpx client (`transport()`)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

logger = logging.getLogger(__name__)

# Statuses that must not carry a body or a Content-Length (RFC 9110 §8.6).
_BODYLESS = frozenset({204, 304})


@dataclass(frozen=True)
class Request:
    """One request as the stand-in received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lowercased
    body: bytes
    json: Any  # None when the body is empty or not JSON
    time: float  # time.time() on arrival


@dataclass(frozen=True)
class Response:
    """An answer: `body` is JSON-encoded, except bytes which are sent as they are."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


RouteHandler = Callable[[Request, dict[str, str]], Response]


@dataclass(frozen=True)
class Fault:
    """A misbehaviour for the next request that matches `method` and `path`.

    `path` is a regex searched in the request path (without the query). Set
    `status` to answer with it, `drop` to reset the connection without an
    answer, `delay` (seconds) to wait first; a delay alone answers normally
    late (the work is done after the wait). `then_apply` does the real work at
    once, before any delay, then answers with the fault, so a client sees a
    failure (or a timeout) for something that did happen.
    """

    method: str | None = None
    path: str | None = None
    status: int | None = None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    then_apply: bool = False

    def __post_init__(self) -> None:
        if self.drop and self.status is not None:
            raise ValueError("a fault either answers with a status or drops the connection")
        if self.then_apply and self.status is None and not self.drop:
            raise ValueError("then_apply needs a status or drop to replace the real answer")
        if self.status is None and not self.drop and self.delay <= 0:
            raise ValueError("a fault needs a status, drop or a positive delay")

    def matches(self, request: Request) -> bool:
        if self.method is not None and self.method.upper() != request.method:
            return False
        return self.path is None or re.search(self.path, request.path) is not None


class StartsAndStops:
    """A stand-in run in a `with` block: started on entry, stopped on exit."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class StandinServer(StartsAndStops):
    """A ThreadingHTTPServer on loopback; subclasses add routes and the API's error style."""

    json_content_type = "application/json"
    server_header = "standin"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._routes: list[tuple[str, re.Pattern[str], RouteHandler]] = []
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._faults: list[Fault] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        self._stopping.clear()
        self._httpd = _HTTPServer(self._address, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{type(self).__name__}-{self._httpd.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://{self._address[0]}:{self._httpd.server_port}"

    # -- routes and hooks for subclasses ----------------------------------

    def add_route(self, method: str, pattern: str, handler: RouteHandler) -> None:
        """Serve `method` on paths that fully match `pattern`; named groups become params."""
        self._routes.append((method.upper(), re.compile(pattern), handler))

    def before_route(self, request: Request) -> Response | None:
        """Checks common to every route (auth, required headers); an answer stops the request."""
        return None

    def common_headers(self, request: Request, status: int) -> dict[str, str]:
        """Headers on every answer, faults included (rate-limit headers, request ids)."""
        return {}

    def not_found(self, request: Request) -> Response:
        return Response(404, {"message": "Not Found"})

    def server_error(self, request: Request) -> Response:
        return Response(500, {"message": "Internal Server Error"})

    # -- what tests read ---------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str | None = None, path_prefix: str = "") -> list[Request]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper()) and r.path.startswith(path_prefix)
        ]

    # -- fault injection -----------------------------------------------------

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    @property
    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- serving -------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        request = self._read_request(handler)
        response = self._exchange(request, self._stopping.wait)
        if response is None:
            handler.reset_connection()
            return
        self._write(handler, request, response)

    def _exchange(self, request: Request, wait: Callable[[float], object]) -> Response | None:
        """Log the request, apply the first fault that matches it, and answer (None: drop the
        connection). `wait` spends a fault's delay."""
        with self._lock:
            self._requests.append(request)
            fault = next((f for f in self._faults if f.matches(request)), None)
            if fault is not None:
                self._faults.remove(fault)
        response = None
        if fault is not None and fault.then_apply:
            response = self._answer(request)  # done at once: only the answer is late, lost or a failure
        if fault is not None and fault.delay > 0:
            wait(fault.delay)
        if fault is None or (fault.status is None and not fault.drop):
            response = self._answer(request)
        if fault is not None and fault.drop:
            return None
        if fault is not None and fault.status is not None:
            response = Response(fault.status, fault.body, fault.headers)
        assert response is not None
        return response

    # -- in-process ------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """This stand-in in-process, for an httpx client: the same routes, request log and faults,
        without a socket or a thread. What a client on a socket would see, it sees here: a dropped
        connection raises httpx.RemoteProtocolError, and a fault delaying the answer to or past the
        request's read timeout raises httpx.ReadTimeout (after the work, with `then_apply`)."""
        return httpx.MockTransport(self._handle_in_process)

    def _handle_in_process(self, sent: httpx.Request) -> httpx.Response:
        headers = {k.lower(): v for k, v in sent.headers.items()}
        request = _request(sent.method, sent.url.path, sent.url.query.decode(), headers, sent.read())
        read_timeout = (sent.extensions.get("timeout") or {}).get("read")
        timed_out = False

        def wait(seconds: float) -> None:
            nonlocal timed_out
            if read_timeout is not None and seconds >= read_timeout:
                timed_out = True  # the client would have given up first: no need to wait it out
            else:
                self._stopping.wait(seconds)

        response = self._exchange(request, wait)
        if timed_out:
            raise httpx.ReadTimeout("timed out (in-process stand-in)", request=sent)
        if response is None:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=sent)
        status, answer_headers, payload = self._encoded(request, response)
        return httpx.Response(status, headers=answer_headers, content=payload, request=sent)

    def _read_request(self, handler: _Handler) -> Request:
        split = urlsplit(handler.path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        return _request(handler.command, split.path, split.query, headers, handler.read_body(headers))

    def _answer(self, request: Request) -> Response:
        try:
            for method, pattern, route_handler in self._routes:
                match = pattern.fullmatch(request.path)
                if match is not None and method == request.method:
                    return self.before_route(request) or route_handler(request, match.groupdict())
            return self.not_found(request)
        except Exception:  # a broken handler must answer 500, never kill the server thread
            logger.warning(
                "%s: handler failed for %s %s",
                type(self).__name__,
                request.method,
                request.path,
                exc_info=True,
            )
            return self.server_error(request)

    def _encoded(self, request: Request, response: Response) -> tuple[int, list[tuple[str, str]], bytes]:
        """The status, header lines and body bytes of an answer, as either way of serving sends them."""
        headers = {k.lower(): (k, v) for k, v in self.common_headers(request, response.status).items()}
        if isinstance(response.body, bytes):
            payload = response.body
        elif response.body is None:
            payload = b""
        else:
            payload = json.dumps(response.body).encode()
            headers["content-type"] = ("Content-Type", self.json_content_type)
        headers.update({k.lower(): (k, v) for k, v in response.headers.items()})
        if response.status in _BODYLESS:
            payload = b""
        else:
            headers["content-length"] = ("Content-Length", str(len(payload)))
        return response.status, list(headers.values()), payload

    def _write(self, handler: _Handler, request: Request, response: Response) -> None:
        status, headers, payload = self._encoded(request, response)
        try:
            handler.send_response(status)
            for name, value in headers:
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            # The client went away; nothing to answer to.
            handler.close_connection = True


def _request(method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Request:
    """A request as either way of serving logs it: path unquoted, query parsed, JSON body read."""
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    return Request(
        method=method,
        path=unquote(path),
        query=dict(parse_qsl(query, keep_blank_values=True)),
        headers=headers,
        body=body,
        json=parsed,
        time=time.time(),
    )


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], standin: StandinServer) -> None:
        self.standin = standin
        self._live: dict[threading.Thread, socket.socket] = {}
        self._live_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can stall; loopback needs none.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def track(self, connection: socket.socket) -> None:
        with self._live_lock:
            self._live[threading.current_thread()] = connection

    def untrack(self) -> None:
        with self._live_lock:
            self._live.pop(threading.current_thread(), None)

    def close_connections(self) -> None:
        """Wake keep-alive handler threads blocked on idle clients and wait for them."""
        with self._live_lock:
            live = dict(self._live)
        for connection in live.values():
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in live:
            thread.join(timeout=5)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a client hanging up is routine here.
        logger.debug("connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle the second waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True

    @property
    def _server(self) -> _HTTPServer:
        return cast(_HTTPServer, self.server)

    def setup(self) -> None:
        super().setup()
        self._server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._server.untrack()

    def version_string(self) -> str:
        return self._server.standin.server_header

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def read_body(self, headers: Mapping[str, str]) -> bytes:
        # The whole body must be consumed, or its leftovers would be read as the next keep-alive request.
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(headers.get("content-length") or 0))

    def reset_connection(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees "connection reset", not a clean EOF.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _serve(self) -> None:
        self._server.standin._serve(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
