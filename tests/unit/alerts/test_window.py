"""The dedupe window, the fingerprint, and a failed post that must not burn the window."""

from __future__ import annotations

import uuid

import pytest

from orchestrator.alerts.model import Alert
from orchestrator.observability.metrics import ALERT_SENT, ALERT_SUPPRESSED
from orchestrator.state.alerts import Claim
from orchestrator.state.memory import MemoryAlertStore
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.http_standin import Fault
from tests.fixtures.alerts import AlerterFactory, Clock, StoreFactory

CHANNEL_ROUTE = r"/api/v10/channels/[0-9]+/messages$"


def problem(trace_id: str | None = None, *, severity: str = "error", user: str = "alice") -> Alert:
    return Alert(
        severity,  # type: ignore[arg-type]
        "dispatch",
        "GitHub refused the dispatch (422): nightly.yml",
        "Workflow does not have 'workflow_dispatch' trigger",
        trace_id=trace_id or uuid.uuid4().hex,
        command="nightly",
        user_name=user,
    )


def description(post: dict[str, object]) -> str:
    embeds = post["embeds"]
    assert isinstance(embeds, list)
    text = embeds[0]["description"]
    assert isinstance(text, str)
    return text


def test_repeat_inside_window_is_suppressed_then_counted(make_alerter: AlerterFactory, clock: Clock) -> None:
    alerter = make_alerter(MemoryAlertStore(), window_seconds=300)

    assert alerter.raise_alert(problem())
    clock.advance(60)  # 22:14
    results = [alerter.raise_alert(problem(user=f"user{n}")) for n in range(3)]
    clock.advance(200)
    results.append(alerter.raise_alert(problem()))

    assert results == [False] * 4
    assert make_alerter.count(ALERT_SUPPRESSED[0]) == 4
    assert make_alerter.count(ALERT_SENT[0]) == 1
    assert len(make_alerter.posts()) == 1

    clock.advance(41)  # 301 s after the first post: the window has passed
    assert alerter.raise_alert(problem())
    posts = make_alerter.posts()
    assert len(posts) == 2
    assert "4 more since 22:14 UTC" in description(posts[1])
    # And the count starts again from zero.
    clock.advance(301)
    assert alerter.raise_alert(problem())
    assert "more since" not in description(make_alerter.posts()[2])


def test_window_on_every_store(stores: StoreFactory, make_alerter: AlerterFactory, clock: Clock) -> None:
    first, second = make_alerter(stores.new()), make_alerter(stores.new())
    assert first.raise_alert(problem())
    clock.advance(120)
    assert not second.raise_alert(problem())
    assert not first.raise_alert(problem())
    clock.advance(181)
    assert second.raise_alert(problem())
    posts = make_alerter.posts()
    assert len(posts) == 2
    assert "2 more since 22:15 UTC" in description(posts[1])


def test_resolved_has_its_own_fingerprint(make_alerter: AlerterFactory) -> None:
    alerter = make_alerter(MemoryAlertStore())
    assert problem().fingerprint() != problem(severity="resolved").fingerprint()
    assert alerter.raise_alert(problem())
    assert alerter.raise_alert(problem(severity="resolved"))
    assert len(make_alerter.posts()) == 2


def test_fingerprint_ignores_volatile_parts() -> None:
    def alert(title: str, cause: str, **kw: str) -> Alert:
        return Alert("error", "dispatch", title, cause, **kw)  # type: ignore[arg-type]

    base = alert("Run 1234 failed for `alice`", "trace 0af7651916cd43dd8448eb211c80319c said 'x'")
    same = [
        alert("Run 99 failed for `bob`", "trace deadbeefcafe0123 said 'something else'", trace_id="a" * 32),
        alert("Run 1 failed for `carol`", 'trace 0123456789abcdef said "quoted"', user_name="carol"),
        alert("RUN 7 FAILED FOR `x`", "trace 11111111 said 'y'", command="deploy", run_url="https://x/1"),
    ]
    assert {a.fingerprint() for a in same} == {base.fingerprint()}
    different = [
        Alert("critical", "dispatch", base.title, base.cause),
        Alert("warning", "dispatch", base.title, base.cause),
        Alert("error", "worker", base.title, base.cause),
        Alert("error", "dispatch", "Run 1234 stuck for `alice`", base.cause),
        Alert("error", "dispatch", base.title, "another cause"),
    ]
    prints = {a.fingerprint() for a in different}
    assert len(prints) == len(different)
    assert base.fingerprint() not in prints


@pytest.mark.parametrize(
    ("fault", "bot_token"),
    [(Fault(method="POST", path=CHANNEL_ROUTE, status=500), None), (None, "wrong-bot-token-0123456789")],
    ids=["discord-500", "wrong-bot-token-401"],
)
def test_failed_post_returns_false_and_keeps_the_window_open(
    make_alerter: AlerterFactory, discord: FakeDiscord, clock: Clock, fault: Fault | None, bot_token: str | None
) -> None:
    store = MemoryAlertStore()
    if fault is not None:
        discord.inject(fault)
        failing = make_alerter(store)
    else:
        failing = make_alerter(store, bot_token=bot_token)

    assert failing.raise_alert(problem()) is False  # and it did not raise
    assert make_alerter.posts() == []
    assert make_alerter.count(ALERT_SENT[0]) == 0

    clock.advance(5)
    assert make_alerter(store).raise_alert(problem())  # the window was not burned
    assert len(make_alerter.posts()) == 1


def test_failed_post_is_counted_in_the_next_message(
    stores: StoreFactory, make_alerter: AlerterFactory, discord: FakeDiscord, clock: Clock
) -> None:
    alerter = make_alerter(stores.new())
    discord.inject(Fault(method="POST", path=CHANNEL_ROUTE, status=500))
    assert not alerter.raise_alert(problem())
    clock.advance(60)
    assert alerter.raise_alert(problem())
    [post] = make_alerter.posts()
    assert "1 more since 22:13 UTC" in description(post)


def test_failed_post_keeps_earlier_suppressed_count(
    stores: StoreFactory, make_alerter: AlerterFactory, discord: FakeDiscord, clock: Clock
) -> None:
    """Repeats suppressed before a failed post are still reported by the post that succeeds."""
    alerter = make_alerter(stores.new())
    assert alerter.raise_alert(problem())
    clock.advance(30)
    assert not alerter.raise_alert(problem())  # suppressed: 22:13:30
    assert not alerter.raise_alert(problem())
    clock.advance(300)
    discord.inject(Fault(method="POST", path=CHANNEL_ROUTE, status=500))
    assert not alerter.raise_alert(problem())  # wins the claim, post fails, claim released
    clock.advance(10)
    assert alerter.raise_alert(problem())
    posts = make_alerter.posts()
    assert len(posts) == 2
    assert "more since 22:13 UTC" in description(posts[1])
    assert "3 more since" in description(posts[1])  # two suppressed, and the one whose post failed


def test_raise_alert_never_raises(make_alerter: AlerterFactory) -> None:
    class BrokenStore(MemoryAlertStore):
        def claim(self, fingerprint: str, *, now: float, window: float) -> Claim:
            raise RuntimeError("state store down")

    assert make_alerter(BrokenStore()).raise_alert(problem()) is False
    assert make_alerter.posts() == []


def test_throttled_occurrence_is_posted_later(make_alerter: AlerterFactory, clock: Clock) -> None:
    alerter = make_alerter(MemoryAlertStore(), per_minute=1)
    other = Alert("error", "worker", "Something else", "cause")
    assert alerter.raise_alert(other)
    assert not alerter.raise_alert(problem())  # no slot: released, not burned
    clock.advance(60)
    assert alerter.raise_alert(problem())
    titles = [p["embeds"][0]["title"] for p in make_alerter.posts()]
    assert len(titles) == 3
    assert "Alerts throttled" in titles[1]
