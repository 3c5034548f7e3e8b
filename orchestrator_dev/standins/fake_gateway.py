"""A stand-in for Discord's gateway (v10, JSON text frames) on loopback, as discord.py 2.7 speaks to it.

One websocket server in a daemon thread with its own event loop. It says HELLO, ACKs heartbeats,
checks IDENTIFY (token, privileged intents) and answers READY, resumes known sessions by
replaying what the client missed, and lets a test push DISPATCH events, ask for a RECONNECT,
drop the socket or invalidate the session. Compression is never used: discord.py asks for
`compress=zlib-stream` (or zstd) in the query but reads text frames as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from aiohttp import WSMsgType, web

from orchestrator_dev.standins.http_standin import StartsAndStops

logger = logging.getLogger(__name__)

# Opcodes
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 7, 9, 10, 11
# Client opcodes that only need an authenticated connection (presence, voice state, member requests, ...).
_OTHER_CLIENT_OPS = frozenset({3, 4, 8, 31})

# Intents Discord gives only to bots that enabled them: members, presences, message content.
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)

# Close codes
UNKNOWN_ERROR, UNKNOWN_OPCODE, DECODE_ERROR, NOT_AUTHENTICATED = 4000, 4001, 4002, 4003
AUTHENTICATION_FAILED, ALREADY_AUTHENTICATED, INVALID_INTENTS, DISALLOWED_INTENTS = 4004, 4005, 4013, 4014

DEFAULT_HEARTBEAT_INTERVAL_MS = 41250
_CALL_TIMEOUT = 10.0

T = TypeVar("T")


@dataclass
class _Session:
    id: str
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, READY first, for RESUME replays

    def next_dispatch(self, event: str, data: Any) -> dict[str, Any]:
        self.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.log.append(payload)
        return payload


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    request: web.Request
    session: _Session | None = None  # set once IDENTIFY or RESUME succeeded: dispatches go here


def _frame(op: int, data: Any = None) -> dict[str, Any]:
    """A payload that is not a dispatch: Discord sends `s` and `t` as null."""
    return {"op": op, "d": data, "s": None, "t": None}


class FakeGateway(StartsAndStops):
    """Discord's gateway for one bot (shard [0, 1]) at `url`; tests drive it and read what happened."""

    def __init__(
        self,
        application_id: str,
        bot_token: str,
        *,
        bot_username: str = "Orchestrator",
        heartbeat_interval: int = DEFAULT_HEARTBEAT_INTERVAL_MS,
        privileged_intents: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`heartbeat_interval` in milliseconds, as HELLO says it; `privileged_intents`: the bits the bot
        was granted in the developer portal (any other privileged bit closes the socket with 4014)."""
        self.application_id = application_id
        self.bot_token = bot_token
        self.heartbeat_interval = heartbeat_interval
        self.privileged_intents = privileged_intents
        self._address = (host, port)
        self._user = {
            "id": application_id,
            "username": bot_username,
            "discriminator": "0000",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "flags": 0,
            "verified": True,
            "mfa_enabled": False,
        }
        # Everything below is changed on the server loop only; the condition guards reads from other threads.
        self._changed = threading.Condition(threading.RLock())
        self._sessions: dict[str, _Session] = {}
        self._session_ids: list[str] = []
        self._current: _Session | None = None  # the session dispatches go to
        self._connections: list[_Connection] = []
        self._sent: list[dict[str, Any]] = []
        self._received: list[dict[str, Any]] = []
        self._intents: list[int] = []
        self._identifies = self._resumes = self._heartbeats = 0
        # A payload is counted when it arrives and answered a moment later; these count the answers.
        self._identify_answered = self._resume_answered = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._send_lock: asyncio.Lock | None = None  # keeps dispatches and replays in sequence order

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("FakeGateway is already started")
        loop = asyncio.new_event_loop()
        started: asyncio.Future[None] = loop.create_future()
        self._loop = loop
        self._thread = threading.Thread(target=self._run, args=(loop, started), name="FakeGateway", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._wait(started), loop).result(_CALL_TIMEOUT)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(_CALL_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_CALL_TIMEOUT)
        self._loop = self._thread = self._runner = None

    @property
    def url(self) -> str:
        """Where to connect (DiscordWebSocket.DEFAULT_GATEWAY); READY's `resume_gateway_url` too."""
        if self._thread is None:
            raise RuntimeError("FakeGateway is not started")
        return f"ws://{self._address[0]}:{self._port}/"

    # -- what tests drive -------------------------------------------------------------------

    def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send a DISPATCH to the current session and return its sequence number.

        With no connection open the event waits in the session's log and goes out when the client
        RESUMEs. Raises RuntimeError when no session exists (nothing IDENTIFYed, or it was invalidated).
        """
        return self._call(self._dispatch(event, copy.deepcopy(data)))

    def reconnect(self) -> None:
        """Send op 7 RECONNECT: discord.py closes the socket and RESUMEs."""
        self._call(self._send_to_current(_frame(RECONNECT)))

    def invalidate(self, resumable: bool) -> None:
        """Send op 9 INVALID_SESSION; when not resumable the session is forgotten (the client IDENTIFYs)."""
        self._call(self._invalidate(resumable))

    def drop(self) -> None:
        """Cut the current connection without a closing handshake (the client sees it vanish and RESUMEs)."""
        self._call(self._drop())

    # -- what tests read ----------------------------------------------------------------------

    @property
    def identifies(self) -> int:
        """IDENTIFY payloads received, refused ones included."""
        with self._changed:
            return self._identifies

    @property
    def resumes(self) -> int:
        """RESUME payloads received, for unknown sessions too."""
        with self._changed:
            return self._resumes

    @property
    def heartbeats(self) -> int:
        """Heartbeats received (each one ACKed)."""
        with self._changed:
            return self._heartbeats

    @property
    def sessions(self) -> list[str]:
        """Every session id READY handed out, oldest first."""
        with self._changed:
            return list(self._session_ids)

    @property
    def session_id(self) -> str | None:
        """The session dispatches go to, if any."""
        with self._changed:
            return self._current.id if self._current else None

    @property
    def connected(self) -> bool:
        """Whether a websocket is open."""
        with self._changed:
            return bool(self._connections)

    @property
    def intents(self) -> list[int]:
        """The intents of each IDENTIFY, in order."""
        with self._changed:
            return list(self._intents)

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Every payload written to a client, in order, across connections."""
        with self._changed:
            return copy.deepcopy(self._sent)

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every payload a client sent, in order, across connections."""
        with self._changed:
            return copy.deepcopy(self._received)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until `predicate()` is true (checked whenever the gateway's state changes)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                # A short cap: a predicate may also look at things outside the gateway.
                self._changed.wait(min(remaining, 0.05))
            return True

    def wait_for_identify(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait until `count` IDENTIFYs were answered with READY (or refused)."""
        return self.wait_until(lambda: self._identifies >= count and not self._identify_pending(), timeout)

    def wait_for_resume(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait until `count` RESUMEs were answered (replay and RESUMED, or INVALID_SESSION)."""
        return self.wait_until(lambda: self._resumes >= count and not self._resume_pending(), timeout)

    # -- internals: threads -------------------------------------------------------------------

    def _run(self, loop: asyncio.AbstractEventLoop, started: asyncio.Future[None]) -> None:
        asyncio.set_event_loop(loop)
        loop.create_task(self._serve(started))
        try:
            loop.run_forever()
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    @staticmethod
    async def _wait(future: asyncio.Future[None]) -> None:
        await future

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("FakeGateway is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_CALL_TIMEOUT)

    def _note(self, change: Callable[[], None]) -> None:
        with self._changed:
            change()
            self._changed.notify_all()

    def _identify_pending(self) -> bool:
        return self._identify_answered < self._identifies

    def _resume_pending(self) -> bool:
        return self._resume_answered < self._resumes

    # -- internals: server ----------------------------------------------------------------------

    async def _serve(self, started: asyncio.Future[None]) -> None:
        try:
            self._send_lock = asyncio.Lock()
            app = web.Application()
            app.router.add_get("/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, self._address[0], self._address[1])
            await site.start()
            self._runner = runner
            self._port = int(runner.addresses[0][1])
        except BaseException as exc:
            started.set_exception(exc)
            raise
        started.set_result(None)

    async def _shutdown(self) -> None:
        for connection in list(self._connections):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.ws.close(code=1001, message=b"Going away"), 2)
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=4096 * 1024)
        await ws.prepare(request)
        connection = _Connection(ws, request)
        self._note(lambda: self._connections.append(connection))
        try:
            await self._send(connection, _frame(HELLO, {"heartbeat_interval": self.heartbeat_interval}))
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._on_text(connection, message.data)
                elif message.type is WSMsgType.BINARY:
                    await self._close(connection, DECODE_ERROR, "Error while decoding payload.")
                elif message.type is WSMsgType.ERROR:
                    break
        except ConnectionError:
            logger.debug("FakeGateway: connection lost", exc_info=True)
        finally:
            self._forget(connection)
        return ws

    def _forget(self, connection: _Connection) -> None:
        def change() -> None:
            if connection in self._connections:
                self._connections.remove(connection)

        self._note(change)

    async def _send(self, connection: _Connection, payload: dict[str, Any]) -> bool:
        if connection.ws.closed:
            return False
        try:
            await connection.ws.send_str(json.dumps(payload))
        except (ConnectionError, RuntimeError):
            return False
        self._note(lambda: self._sent.append(copy.deepcopy(payload)))
        return True

    async def _close(self, connection: _Connection, code: int, reason: str) -> None:
        connection.session = None
        await connection.ws.close(code=code, message=reason.encode())

    def _live_connection(self, session: _Session) -> _Connection | None:
        return next((c for c in reversed(self._connections) if c.session is session and not c.ws.closed), None)

    # -- internals: protocol ----------------------------------------------------------------------

    async def _on_text(self, connection: _Connection, text: str) -> None:
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            await self._close(connection, DECODE_ERROR, "Error while decoding payload.")
            return
        self._note(lambda: self._received.append(payload))
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            self._note(lambda: setattr(self, "_heartbeats", self._heartbeats + 1))
            await self._send(connection, _frame(HEARTBEAT_ACK))
        elif op == IDENTIFY:
            self._note(lambda: setattr(self, "_identifies", self._identifies + 1))
            try:
                await self._identify(connection, data)
            finally:
                self._note(lambda: setattr(self, "_identify_answered", self._identify_answered + 1))
        elif op == RESUME:
            self._note(lambda: setattr(self, "_resumes", self._resumes + 1))
            try:
                await self._resume(connection, data)
            finally:
                self._note(lambda: setattr(self, "_resume_answered", self._resume_answered + 1))
        elif op in _OTHER_CLIENT_OPS:
            if connection.session is None:
                await self._close(connection, NOT_AUTHENTICATED, "Not authenticated.")
        else:
            await self._close(connection, UNKNOWN_OPCODE, "Unknown opcode.")

    def _token_ok(self, data: Any) -> bool:
        token = data.get("token") if isinstance(data, dict) else None
        return isinstance(token, str) and secrets.compare_digest(token.encode(), self.bot_token.encode())

    async def _authenticated(self, connection: _Connection, data: Any) -> bool:
        """An IDENTIFY or RESUME on a connection not yet in a session, with the bot's token; else closed."""
        if connection.session is not None:
            await self._close(connection, ALREADY_AUTHENTICATED, "Already authenticated.")
            return False
        if not self._token_ok(data):
            await self._close(connection, AUTHENTICATION_FAILED, "Authentication failed.")
            return False
        return True

    async def _identify(self, connection: _Connection, data: Any) -> None:
        if not await self._authenticated(connection, data):
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or isinstance(intents, bool) or intents < 0:
            await self._close(connection, INVALID_INTENTS, "Invalid intent(s).")
            return
        self._note(lambda: self._intents.append(intents))
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await self._close(connection, DISALLOWED_INTENTS, "Disallowed intent(s).")
            return
        shard = data.get("shard") if isinstance(data.get("shard"), list) else [0, 1]
        session = _Session(id=secrets.token_hex(16))

        def register() -> None:
            self._sessions[session.id] = session
            self._session_ids.append(session.id)
            self._current = session

        assert self._send_lock is not None
        async with self._send_lock:
            self._note(register)
            ready = {
                "v": 10,
                "user": dict(self._user),
                "guilds": [],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.url,
                "shard": shard,
                "application": {"id": self.application_id, "flags": 0},
                "private_channels": [],
                "relationships": [],
                "user_settings": {},
            }
            connection.session = session
            await self._send(connection, session.next_dispatch("READY", ready))

    async def _resume(self, connection: _Connection, data: Any) -> None:
        if not await self._authenticated(connection, data):
            return
        session = self._sessions.get(str(data.get("session_id")))
        if session is None:
            await self._send(connection, _frame(INVALID_SESSION, False))
            return
        seq = data.get("seq")
        last_seen = seq if isinstance(seq, int) and not isinstance(seq, bool) else 0
        assert self._send_lock is not None
        async with self._send_lock:
            for other in self._connections:
                if other.session is session:
                    other.session = None
            for payload in session.log:
                if payload["s"] > last_seen and not await self._send(connection, payload):
                    return
            if await self._send(connection, {"op": DISPATCH, "t": "RESUMED", "s": None, "d": {}}):
                connection.session = session
                self._note(lambda: setattr(self, "_current", session))

    async def _dispatch(self, event: str, data: dict[str, Any]) -> int:
        assert self._send_lock is not None
        async with self._send_lock:
            session = self._current
            if session is None:
                raise RuntimeError("no gateway session: nothing IDENTIFYed yet, or the session was invalidated")
            payload = session.next_dispatch(event, data)
            connection = self._live_connection(session)
            if connection is not None:
                await self._send(connection, payload)
            return int(payload["s"])

    def _current_connection(self) -> _Connection:
        connection = next((c for c in reversed(self._connections) if not c.ws.closed), None)
        if connection is None:
            raise RuntimeError("no gateway connection is open")
        return connection

    async def _send_to_current(self, payload: dict[str, Any]) -> None:
        await self._send(self._current_connection(), payload)

    async def _invalidate(self, resumable: bool) -> None:
        connection = self._current_connection()
        if not resumable:
            session = connection.session

            def forget() -> None:
                if session is not None:
                    self._sessions.pop(session.id, None)
                    if self._current is session:
                        self._current = None

            self._note(forget)
            connection.session = None
        await self._send(connection, _frame(INVALID_SESSION, resumable))

    async def _drop(self) -> None:
        connection = self._current_connection()
        connection.session = None
        transport = connection.request.transport
        if transport is not None:
            transport.abort()  # no close frame, no FIN handshake: the socket just goes away
        else:
            await connection.ws.close(code=UNKNOWN_ERROR, message=b"Unknown error.")
        self._forget(connection)
