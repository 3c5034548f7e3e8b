"""FakeGateway: the stand-in's constructor, its thread and event loop, the websocket server, and what
tests drive and read."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Self, TypeVar

from aiohttp import WSMsgType, web

from orchestrator_dev.standins.fake_gateway.protocol import GatewayProtocol
from orchestrator_dev.standins.fake_gateway.vocabulary import (
    DECODE_ERROR,
    DEFAULT_HEARTBEAT_INTERVAL_MS,
    HELLO,
    RECONNECT,
    Connection,
    Session,
    frame,
)
from orchestrator_dev.standins.http_standin import StartsAndStops

logger = logging.getLogger(__name__)
_CALL_TIMEOUT = 10.0  # seconds for a call into the server's event loop
T = TypeVar("T")


class FakeGateway(GatewayProtocol, StartsAndStops):
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
        self._sessions: dict[str, Session] = {}
        self._session_ids: list[str] = []
        self._current: Session | None = None  # the session dispatches go to
        self._connections: list[Connection] = []
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

    def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send a DISPATCH to the current session and return its sequence number.

        With no connection open the event waits in the session's log and goes out when the client
        RESUMEs. Raises RuntimeError when no session exists (nothing IDENTIFYed, or it was invalidated).
        """
        return self._call(self._dispatch(event, copy.deepcopy(data)))

    def reconnect(self) -> None:
        """Send op 7 RECONNECT: discord.py closes the socket and RESUMEs."""
        self._call(self._send_to_current(frame(RECONNECT)))

    def invalidate(self, resumable: bool) -> None:
        """Send op 9 INVALID_SESSION; when not resumable the session is forgotten (the client IDENTIFYs)."""
        self._call(self._invalidate(resumable))

    def drop(self) -> None:
        """Cut the current connection without a closing handshake (the client sees it vanish and RESUMEs)."""
        self._call(self._drop())

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

    def _identify_pending(self) -> bool:
        return self._identify_answered < self._identifies

    def _resume_pending(self) -> bool:
        return self._resume_answered < self._resumes

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
        connection = Connection(ws, request)
        self._note(lambda: self._connections.append(connection))
        try:
            await self._send(connection, frame(HELLO, {"heartbeat_interval": self.heartbeat_interval}))
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
