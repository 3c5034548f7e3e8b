"""The gateway's side of the conversation: heartbeats, IDENTIFY (token, intents) answered with READY,
RESUME replaying what the client missed, dispatches in sequence, and the closes and invalidations
tests ask for. Runs on the server's event loop only."""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import threading
from collections.abc import Callable
from typing import Any

from orchestrator_dev.standins.fake_gateway.vocabulary import (
    ALREADY_AUTHENTICATED,
    AUTHENTICATION_FAILED,
    DECODE_ERROR,
    DISALLOWED_INTENTS,
    DISPATCH,
    HEARTBEAT,
    HEARTBEAT_ACK,
    IDENTIFY,
    INVALID_INTENTS,
    INVALID_SESSION,
    NOT_AUTHENTICATED,
    OTHER_CLIENT_OPS,
    PRIVILEGED_INTENTS,
    RESUME,
    UNKNOWN_ERROR,
    UNKNOWN_OPCODE,
    Connection,
    Session,
    frame,
)


class GatewayProtocol:
    """The state FakeGateway.__init__ sets up, and what its connections do with it."""

    # Set up by FakeGateway.__init__ (server.py), which says what each one holds.
    application_id: str
    bot_token: str
    heartbeat_interval: int
    privileged_intents: int
    _address: tuple[str, int]
    _user: dict[str, Any]
    _changed: threading.Condition
    _sessions: dict[str, Session]
    _session_ids: list[str]
    _current: Session | None
    _connections: list[Connection]
    _sent: list[dict[str, Any]]
    _received: list[dict[str, Any]]
    _intents: list[int]
    _identifies: int
    _resumes: int
    _heartbeats: int
    _identify_answered: int
    _resume_answered: int
    _thread: threading.Thread | None
    _port: int
    _send_lock: asyncio.Lock | None

    @property
    def url(self) -> str:
        """Where to connect (DiscordWebSocket.DEFAULT_GATEWAY); READY's `resume_gateway_url` too."""
        if self._thread is None:
            raise RuntimeError("FakeGateway is not started")
        return f"ws://{self._address[0]}:{self._port}/"

    def _note(self, change: Callable[[], None]) -> None:
        with self._changed:
            change()
            self._changed.notify_all()

    async def _send(self, connection: Connection, payload: dict[str, Any]) -> bool:
        if connection.ws.closed:
            return False
        try:
            await connection.ws.send_str(json.dumps(payload))
        except (ConnectionError, RuntimeError):
            return False
        self._note(lambda: self._sent.append(copy.deepcopy(payload)))
        return True

    async def _close(self, connection: Connection, code: int, reason: str) -> None:
        connection.session = None
        await connection.ws.close(code=code, message=reason.encode())

    def _forget(self, connection: Connection) -> None:
        def change() -> None:
            if connection in self._connections:
                self._connections.remove(connection)

        self._note(change)

    def _live_connection(self, session: Session) -> Connection | None:
        return next((c for c in reversed(self._connections) if c.session is session and not c.ws.closed), None)

    async def _on_text(self, connection: Connection, text: str) -> None:
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
            await self._send(connection, frame(HEARTBEAT_ACK))
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
        elif op in OTHER_CLIENT_OPS:
            if connection.session is None:
                await self._close(connection, NOT_AUTHENTICATED, "Not authenticated.")
        else:
            await self._close(connection, UNKNOWN_OPCODE, "Unknown opcode.")

    def _token_ok(self, data: Any) -> bool:
        token = data.get("token") if isinstance(data, dict) else None
        return isinstance(token, str) and secrets.compare_digest(token.encode(), self.bot_token.encode())

    async def _authenticated(self, connection: Connection, data: Any) -> bool:
        """An IDENTIFY or RESUME on a connection not yet in a session, with the bot's token; else closed."""
        if connection.session is not None:
            await self._close(connection, ALREADY_AUTHENTICATED, "Already authenticated.")
            return False
        if not self._token_ok(data):
            await self._close(connection, AUTHENTICATION_FAILED, "Authentication failed.")
            return False
        return True

    async def _identify(self, connection: Connection, data: Any) -> None:
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
        session = Session(id=secrets.token_hex(16))

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

    async def _resume(self, connection: Connection, data: Any) -> None:
        if not await self._authenticated(connection, data):
            return
        session = self._sessions.get(str(data.get("session_id")))
        if session is None:
            await self._send(connection, frame(INVALID_SESSION, False))
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

    def _current_connection(self) -> Connection:
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
        await self._send(connection, frame(INVALID_SESSION, resumable))

    async def _drop(self) -> None:
        connection = self._current_connection()
        connection.session = None
        transport = connection.request.transport
        if transport is not None:
            transport.abort()  # no close frame, no FIN handshake: the socket just goes away
        else:
            await connection.ws.close(code=UNKNOWN_ERROR, message=b"Unknown error.")
        self._forget(connection)
