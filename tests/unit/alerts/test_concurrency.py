"""Many instances at once: one post per problem, and the per-minute limit, on every state store."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence

from orchestrator.alerts.alerter import Alerter
from orchestrator.alerts.model import Alert
from orchestrator.observability.metrics import ALERT_SUPPRESSED
from tests.fixtures.alerts import AlerterFactory, Clock, StoreFactory


def occurrence(n: int) -> Alert:
    """One occurrence of one problem: its trace id, user and numbers differ from the others'."""
    return Alert(
        "error",
        "dispatch",
        "GitHub cannot find the workflow (404): diagnose.yml",
        f"Run {1000 + n} for `user-{n}` failed: 'missing.yml' not found",
        trace_id=uuid.uuid4().hex,
        command="diagnose",
        user_name=f"user{n}",
    )


def distinct(n: int) -> Alert:
    """A different problem for each n (numbers are normalised away, so the title varies in letters)."""
    word = "".join(chr(ord("k") + int(digit)) for digit in f"{n:02d}")
    return Alert("error", "worker", f"Queue {word} is stuck", "cause", trace_id=uuid.uuid4().hex)


def run_together(alerters: Sequence[Alerter], alerts: Sequence[Alert]) -> list[bool]:
    """Each alert raised from its own thread, all released at once."""
    barrier = threading.Barrier(len(alerts))
    results: list[bool | None] = [None] * len(alerts)

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = alerters[i % len(alerters)].raise_alert(alerts[i])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(alerts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(r is not None for r in results), "a thread did not finish"
    return [bool(r) for r in results]


def alerters_for(stores: StoreFactory, make_alerter: AlerterFactory, count: int) -> list[Alerter]:
    """Per thread on DynamoDB (own boto3 client); two StateStores on one file on SQLite; one dict in memory."""
    instances = {"memory": 1, "sqlite": 2, "dynamodb": count}[stores.name]
    return [make_alerter(stores.new()) for _ in range(instances)]


def test_fifty_identical_alerts_post_once(stores: StoreFactory, make_alerter: AlerterFactory, clock: Clock) -> None:
    alerters = alerters_for(stores, make_alerter, 50)

    results = run_together(alerters, [occurrence(n) for n in range(50)])

    assert results.count(True) == 1
    assert len(make_alerter.posts()) == 1
    assert make_alerter.count(ALERT_SUPPRESSED[0]) == 49
    # After the window the next occurrence posts and says how many were held back.
    clock.advance(301)
    assert alerters[0].raise_alert(occurrence(99))
    posts = make_alerter.posts()
    assert len(posts) == 2
    assert "49 more since 22:13 UTC" in posts[-1]["embeds"][0]["description"]


def test_same_fingerprint_whatever_the_occurrence() -> None:
    assert len({occurrence(n).fingerprint() for n in range(50)}) == 1
    assert len({distinct(n).fingerprint() for n in range(30)}) == 30


def test_burst_of_different_alerts_is_rate_limited(stores: StoreFactory, make_alerter: AlerterFactory) -> None:
    alerters = alerters_for(stores, make_alerter, 30)

    results = run_together(alerters, [distinct(n) for n in range(30)])

    posts = make_alerter.posts()
    titles = [post["embeds"][0]["title"] for post in posts]
    notices = [t for t in titles if "Alerts throttled" in t]
    assert len(notices) == 1
    assert len(titles) - len(notices) <= 10
    assert results.count(True) == len(titles) - 1  # the notice is not one of the callers' alerts
    assert len(titles) - len(notices) == 10  # nothing else used the minute's slots


def test_rate_limit_is_per_minute(stores: StoreFactory, make_alerter: AlerterFactory, clock: Clock) -> None:
    alerter = make_alerter(stores.new(), per_minute=2)
    sent: Callable[[int], bool] = lambda n: alerter.raise_alert(distinct(n))  # noqa: E731

    assert [sent(n) for n in range(4)] == [True, True, False, False]
    clock.advance(60)
    assert sent(10)
    titles = [post["embeds"][0]["title"] for post in make_alerter.posts()]
    assert sum("Alerts throttled" in t for t in titles) == 1
    assert len(titles) == 4
