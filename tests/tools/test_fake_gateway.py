"""FakeGateway with FakeDiscord, driven by a real discord.py Client over loopback sockets."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import discord
import discord.gateway
import discord.http
import pytest
import yarl

from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_gateway import PRIVILEGED_INTENTS, FakeGateway

APP_ID = "1234567890123456789"
BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
USER_ID = "333333333333333333"
CHANNEL = "1111111111111111111"
WAIT = 10.0  # seconds; every wait ends as soon as its condition holds


@pytest.fixture
def rest() -> Iterator[FakeDiscord]:
    with FakeDiscord(APP_ID, BOT_TOKEN) as server:
        yield server


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    # A short interval so the keep-alive thread beats during a test, not only right after HELLO.
    with FakeGateway(APP_ID, BOT_TOKEN, heartbeat_interval=100) as server:
        yield server


@pytest.fixture
def pointed(rest: FakeDiscord, gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py's REST base and first gateway URL point at the stand-ins (monkeypatch restores them)."""
    monkeypatch.setattr(discord.http.Route, "BASE", rest.api_url)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(gateway.url))


class QuickClient(discord.Client):
    """discord.Client without the 5 s pause it takes before every IDENTIFY but the first."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


class Bot:
    """A discord.Client running `start(token)` on its own loop in a thread, recording what it sees."""

    def __init__(self, intents: discord.Intents | None = None) -> None:
        intents = intents or discord.Intents(guilds=True)
        self.client = QuickClient(intents=intents, enable_debug_events=True)
        self.raw: list[dict[str, Any]] = []  # every frame the client read, parsed
        self.events: list[str] = []  # connect, resumed, disconnect, interaction
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True, name="discord-client")
        self._token = BOT_TOKEN
        client = self.client

        @client.event
        async def on_socket_raw_receive(message: str) -> None:
            self._record(lambda: self.raw.append(json.loads(message)))

        for name in ("connect", "resumed", "disconnect"):
            client.event(self._recorder(name))

        @client.event
        async def on_interaction(interaction: discord.Interaction) -> None:
            self._record(lambda: self.events.append(f"interaction {interaction.id}"))

    def _recorder(self, name: str) -> Callable[[], Any]:
        async def handler() -> None:
            self._record(lambda: self.events.append(name))

        handler.__name__ = f"on_{name}"
        return handler

    def _record(self, change: Callable[[], None]) -> None:
        with self._changed:
            change()
            self._changed.notify_all()

    def _fail(self, exc: BaseException) -> None:
        with self._changed:
            self.error = exc
            self._changed.notify_all()

    def _run(self) -> None:
        async def main() -> None:
            async with self.client:
                await self.client.start(self._token)

        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(main())
        except BaseException as exc:  # handed to the test thread
            self._fail(exc)
        finally:
            # discord.py leaves tasks behind (the READY delay); cancel them before the loop goes.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def start(self, token: str = BOT_TOKEN) -> Bot:
        self._token = token
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive() and not self._loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(self.client.close(), self._loop)
            future.result(WAIT)
        self._thread.join(WAIT)
        assert not self._thread.is_alive()

    def wait_until(self, predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate() or self.error is not None, timeout) and predicate()

    def wait_for_event(self, name: str, count: int = 1) -> bool:
        return self.wait_until(lambda: self.events.count(name) >= count)

    def frames(self, event: str) -> list[dict[str, Any]]:
        with self._changed:
            return [f for f in self.raw if f.get("t") == event]

    def finished(self) -> BaseException | None:
        self._thread.join(WAIT)
        assert not self._thread.is_alive()
        return self.error


@pytest.fixture
def bot(pointed: None) -> Iterator[Bot]:
    running = Bot()
    yield running
    running.stop()


def interaction(interaction_id: str, token: str = "aW50ZXJhY3Rpb246" + "A" * 40) -> dict[str, Any]:
    """An INTERACTION_CREATE for /ping in a DM: what discord.py needs to build an Interaction."""
    return {
        "id": interaction_id,
        "application_id": APP_ID,
        "type": 2,
        "token": token,
        "version": 1,
        "attachment_size_limit": 8 * 1024 * 1024,
        "data": {"id": "4444444444444444444", "name": "ping", "type": 1},
        "channel_id": CHANNEL,
        "channel": {"id": CHANNEL, "type": 1},
        "user": {"id": USER_ID, "username": "alice", "discriminator": "0", "avatar": None, "global_name": "Alice"},
        "locale": "en-US",
        "app_permissions": "0",
        "entitlements": [],
        "authorizing_integration_owners": {"1": USER_ID},
        "context": 1,
    }


def connected(bot: Bot, gateway: FakeGateway) -> None:
    bot.start()
    assert gateway.wait_for_identify()
    assert bot.wait_for_event("connect"), bot.error


# -- connecting ----------------------------------------------------------------------------------


def test_the_client_logs_in_identifies_and_gets_ready(bot: Bot, rest: FakeDiscord, gateway: FakeGateway) -> None:
    connected(bot, gateway)

    assert [r.path for r in rest.requests_to("GET")] == ["/api/v10/users/@me", "/api/v10/oauth2/applications/@me"]
    assert all(r.headers["authorization"] == f"Bot {BOT_TOKEN}" for r in rest.requests)
    assert gateway.identifies == 1
    assert gateway.intents == [1]
    assert not gateway.intents[0] & PRIVILEGED_INTENTS
    identify = next(p for p in gateway.received if p["op"] == 2)
    assert identify["d"]["token"] == BOT_TOKEN
    assert bot.client.user is not None
    assert str(bot.client.user.id) == APP_ID
    assert str(bot.client.application_id) == APP_ID
    assert len(gateway.sessions) == 1
    assert bot.frames("READY")[0]["d"]["session_id"] == gateway.sessions[0]
    assert [p["op"] for p in gateway.sent if p["op"] != 11][:2] == [10, 0]  # HELLO, READY (ACKs may be between)


def test_heartbeats_are_acknowledged(bot: Bot, gateway: FakeGateway) -> None:
    connected(bot, gateway)

    # One heartbeat right after HELLO, then one per interval from the keep-alive thread.
    assert gateway.wait_until(lambda: gateway.heartbeats >= 3)
    assert bot.wait_until(lambda: sum(f["op"] == 11 for f in bot.raw) >= 3)
    assert bot.client.latency != float("inf")  # discord.py measured an ACK


def test_a_dispatched_interaction_reaches_the_client(bot: Bot, gateway: FakeGateway) -> None:
    connected(bot, gateway)

    seq = gateway.dispatch("INTERACTION_CREATE", interaction("5555555555555555555"))

    assert bot.wait_for_event("interaction 5555555555555555555")
    [frame] = bot.frames("INTERACTION_CREATE")
    assert (frame["op"], frame["s"]) == (0, seq)
    assert frame["d"]["id"] == "5555555555555555555"


def test_the_client_answers_an_interaction_through_the_rest_stand_in(
    bot: Bot, rest: FakeDiscord, gateway: FakeGateway
) -> None:
    token = "aW50ZXJhY3Rpb246" + "B" * 40
    answered: list[str] = []

    @bot.client.event
    async def on_interaction(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # POST …/callback?with_response=1
        message = await interaction.edit_original_response(content="Dispatched")
        answered.append(message.content)

    connected(bot, gateway)
    rest.expect_interaction("6666666666666666666", token, CHANNEL)
    gateway.dispatch("INTERACTION_CREATE", interaction("6666666666666666666", token))

    assert bot.wait_until(lambda: answered == ["Dispatched"])
    [(interaction_id, callback_token, body)] = rest.callbacks
    assert (interaction_id, callback_token, body) == ("6666666666666666666", token, {"type": 5, "data": {"flags": 64}})
    original = rest.message_for(token)
    assert original is not None
    assert (original["content"], original["flags"], original["channel_id"]) == ("Dispatched", 64, CHANNEL)


# -- resuming ---------------------------------------------------------------------------------------


def test_after_reconnect_the_client_resumes_and_gets_what_it_missed(bot: Bot, gateway: FakeGateway) -> None:
    connected(bot, gateway)
    gateway.dispatch("INTERACTION_CREATE", interaction("1000000000000000001"))
    assert bot.wait_for_event("interaction 1000000000000000001")

    gateway.reconnect()
    missed = gateway.dispatch("INTERACTION_CREATE", interaction("1000000000000000002"))

    assert gateway.wait_for_resume()
    assert bot.wait_for_event("resumed")
    assert bot.wait_for_event("interaction 1000000000000000002")
    assert (gateway.resumes, gateway.identifies) == (1, 1)
    resume = next(p for p in gateway.received if p["op"] == 6)
    assert resume["d"] == {"token": BOT_TOKEN, "session_id": gateway.sessions[0], "seq": missed - 1}
    assert [f["s"] for f in bot.frames("INTERACTION_CREATE")] == [missed - 1, missed]  # each exactly once
    assert bot.events.count("interaction 1000000000000000001") == 1
    assert bot.events.count("interaction 1000000000000000002") == 1


def test_after_a_dropped_socket_the_client_resumes(bot: Bot, gateway: FakeGateway) -> None:
    connected(bot, gateway)

    gateway.drop()
    missed = gateway.dispatch("INTERACTION_CREATE", interaction("2000000000000000001"))

    assert gateway.wait_for_resume()
    assert bot.wait_for_event("interaction 2000000000000000001")
    assert (gateway.resumes, gateway.identifies) == (1, 1)
    assert [f["s"] for f in bot.frames("INTERACTION_CREATE")] == [missed]
    assert bot.events.count("disconnect") == 1


def test_a_resumable_invalid_session_resumes(bot: Bot, gateway: FakeGateway) -> None:
    connected(bot, gateway)

    gateway.invalidate(True)

    assert gateway.wait_for_resume()
    assert bot.wait_for_event("resumed")
    assert (gateway.resumes, gateway.identifies) == (1, 1)


def test_an_invalidated_session_makes_the_client_identify_again(bot: Bot, gateway: FakeGateway) -> None:
    connected(bot, gateway)
    first = gateway.sessions[0]

    gateway.invalidate(False)

    assert gateway.wait_for_identify(2)
    assert bot.wait_for_event("connect", 2)
    assert gateway.resumes == 0
    assert len(gateway.sessions) == 2
    assert gateway.session_id == gateway.sessions[1] != first
    seq = gateway.dispatch("INTERACTION_CREATE", interaction("3000000000000000001"))
    assert seq == 2  # a new session counts from READY = 1 again
    assert bot.wait_for_event("interaction 3000000000000000001")


def test_resuming_an_unknown_session_is_refused(gateway: FakeGateway) -> None:
    async def resume() -> list[dict[str, Any]]:
        import aiohttp

        async with aiohttp.ClientSession() as http, http.ws_connect(gateway.url + "?v=10&encoding=json") as ws:
            hello = await ws.receive_json(timeout=WAIT)
            await ws.send_json({"op": 6, "d": {"token": BOT_TOKEN, "session_id": "nope", "seq": 3}})
            return [hello, await ws.receive_json(timeout=WAIT)]

    hello, answer = asyncio.run(resume())

    assert hello == {"op": 10, "d": {"heartbeat_interval": 100}, "s": None, "t": None}
    assert (answer["op"], answer["d"]) == (9, False)
    assert gateway.resumes == 1


# -- refusals ---------------------------------------------------------------------------------------


def test_a_wrong_token_fails_login(bot: Bot, rest: FakeDiscord, gateway: FakeGateway) -> None:
    bot.start("not-the-token")

    assert isinstance(bot.finished(), discord.LoginFailure)
    assert [r.path for r in rest.requests] == ["/api/v10/users/@me"]
    assert gateway.identifies == 0


def test_privileged_intents_close_the_socket_with_4014(pointed: None, gateway: FakeGateway) -> None:
    bot = Bot(discord.Intents(guilds=True, message_content=True)).start()

    assert isinstance(bot.finished(), discord.PrivilegedIntentsRequired)
    assert gateway.intents == [1 | 1 << 15]
    assert gateway.sessions == []


def test_a_wrong_gateway_token_closes_with_4004(gateway: FakeGateway) -> None:
    async def identify() -> int | None:
        import aiohttp

        async with aiohttp.ClientSession() as http, http.ws_connect(gateway.url) as ws:
            await ws.receive_json(timeout=WAIT)
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 1, "properties": {}}})
            message = await ws.receive(timeout=WAIT)
            assert message.type is aiohttp.WSMsgType.CLOSE
            return ws.close_code

    assert asyncio.run(identify()) == 4004
    assert gateway.sessions == []


def test_dispatch_without_a_session_is_an_error(gateway: FakeGateway) -> None:
    with pytest.raises(RuntimeError, match="no gateway session"):
        gateway.dispatch("INTERACTION_CREATE", {})
