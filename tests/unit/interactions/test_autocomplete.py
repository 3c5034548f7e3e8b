"""Autocomplete (interaction type 4) through the real endpoint, with signed payloads: every keystroke
is answered at once with a type 8 Discord accepts (at most 25 choices of at most 100 characters),
ranked from the state store's cache (prefix matches first, the list's order kept), never from GitHub;
a cold, stale or failing cache still answers (what was typed), and refreshes are queued at most once
per list per minute across instances; allow lists hold; no rate limit, no dispatch."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import CommandSet, CommandSpec, OptionSpec
from orchestrator.interactions.autocomplete import Suggestions, ranked
from orchestrator.interactions.endpoint import InteractionsEndpoint
from orchestrator.interactions.signature import SignatureVerifier
from orchestrator.jobs.envelopes import Job, RefreshCache, parse_message
from orchestrator.ratelimits.bucket import BucketRule
from orchestrator.ratelimits.limiter import RateLimiter
from orchestrator.serialization import dumps_text
from orchestrator.state.caches import Cached, CacheStore
from orchestrator.state.ratelimits import Bucket, Refused
from orchestrator.state.store import open_state_store
from orchestrator.web.http import HttpRequest
from orchestrator.workflows.cache import list_key, workflow_key
from orchestrator.workflows.dispatch_inputs import DispatchInput, DispatchTrigger
from orchestrator_dev.standins.signing import InteractionSigner
from tests.conftest import ADMIN_USER, RecordingQueue
from tests.contract.openapi import validate_interaction_response

REPO = "acme/delivery"
NOW = 1_700_000_000.0
SERVICES = tuple(f"service-{n:02d}" for n in range(40))  # more than Discord's 25 choices

AUTOCOMPLETE_YAML = f"""
commands:
  deploy:
    description: Deploy a ref
    workflow: deploy.yml
    options:
      - name: ref
        type: string
        description: Branch or tag
        required: true
        autocomplete: refs
      - name: branch
        type: string
        description: A branch
        autocomplete: branches
      - name: note
        type: string
        description: A note
    inputs:
      ref: "{{ref}}"
      branch: "{{branch}}"
      note: "{{note}}"
  release:
    description: Release a tag
    workflow: release.yml
    allow:
      users: ["{ADMIN_USER}"]
    options:
      - name: tag
        type: string
        description: A tag
        autocomplete: tags
    inputs:
      tag: "{{tag}}"
  ship:
    description: Ship with the workflow's own inputs
    workflow: ship.yml
    options_from_workflow: true
"""

SHIP_TRIGGER = DispatchTrigger(
    dispatchable=True,
    inputs={
        "environment": DispatchInput("environment", "environment", required=True),
        "service": DispatchInput("service", "choice", required=True, options=SERVICES),
        "version": DispatchInput("version", "string"),
    },
    run_name=None,
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class RecordingCaches:
    """A CacheStore in front of another that notes each key read."""

    def __init__(self, inner: CacheStore) -> None:
        self.inner = inner
        self.reads: list[str] = []

    def get(self, key: str) -> Cached | None:
        self.reads.append(key)
        return self.inner.get(key)

    def put(self, key: str, entry: Cached) -> None:
        self.inner.put(key, entry)

    def claim_refresh(self, key: str, *, now: float, interval: float) -> bool:
        return self.inner.claim_refresh(key, now=now, interval=interval)


class FailingCaches:
    """A state store that throttles or is unreachable: reads, claims, or both raise."""

    def __init__(self, inner: CacheStore, *, fail_get: bool, fail_claim: bool) -> None:
        self.inner = inner
        self.fail_get = fail_get
        self.fail_claim = fail_claim

    def get(self, key: str) -> Cached | None:
        if self.fail_get:
            raise OSError("state store throttled")
        return self.inner.get(key)

    def put(self, key: str, entry: Cached) -> None:
        self.inner.put(key, entry)

    def claim_refresh(self, key: str, *, now: float, interval: float) -> bool:
        if self.fail_claim:
            raise RuntimeError("conditional write failed")
        return self.inner.claim_refresh(key, now=now, interval=interval)


class RefusingStore:
    """A rate-limit store that refuses every take, counting them."""

    def __init__(self) -> None:
        self.takes = 0

    def take(self, buckets: Sequence[Bucket], now: float) -> Refused | None:
        self.takes += 1
        return Refused(buckets[0], 30.0)


@pytest.fixture
def autocomplete_commands(tmp_path: Path) -> CommandSet:
    path = tmp_path / "commands.yaml"
    path.write_text(AUTOCOMPLETE_YAML, encoding="utf-8")
    loaded = load_commands(path)
    # A file cannot say `autocomplete: choices` (derivation does, for a choice input past 25 options).
    pick = CommandSpec(
        name="pick",
        description="Pick a service",
        workflow="pick.yml",
        ref="main",
        options=(OptionSpec("service", "string", "A service", True, SERVICES, "choices"),),
        inputs=(("service", "{service}"),),
    )
    return replace(loaded, commands={**loaded.commands, "pick": pick})


@dataclass
class Bot:
    signer: InteractionSigner
    commands: CommandSet
    queue: RecordingQueue = field(default_factory=RecordingQueue)
    caches: CacheStore = field(default_factory=lambda: open_state_store("memory://").caches)
    clock: Clock = field(default_factory=Clock)
    rate_limiter: RateLimiter | None = None

    def endpoint(self, caches: CacheStore | None = None) -> InteractionsEndpoint:
        """A fresh instance (as another Lambda's would be) over the same store and queue."""
        suggestions = Suggestions(caches or self.caches, self.queue, REPO, clock=self.clock)
        return InteractionsEndpoint(
            SignatureVerifier(self.signer.public_key_hex),
            self.commands,
            self.queue,
            suggestions=suggestions,
            rate_limiter=self.rate_limiter,
        )

    def refreshes(self) -> list[RefreshCache]:
        return [m for m in map(parse_message, self.queue.messages) if isinstance(m, RefreshCache)]

    def put_list(self, source: str, names: Iterable[str], *, age: float) -> None:
        body = dumps_text({"names": list(names), "complete": True})
        self.caches.put(list_key(REPO, source), Cached(body, self.clock.now - age))

    def put_workflow(self, workflow: str, trigger: DispatchTrigger, *, age: float) -> None:
        self.caches.put(
            workflow_key(REPO, workflow, "main"), Cached(dumps_text(trigger.to_json()), self.clock.now - age)
        )


@pytest.fixture
def bot(signer: InteractionSigner, autocomplete_commands: CommandSet) -> Bot:
    return Bot(signer, autocomplete_commands)


def keystroke(
    endpoint: InteractionsEndpoint,
    signer: InteractionSigner,
    command: str,
    option: str,
    typed: str,
    **who: Any,
) -> dict[str, Any]:
    """The answer to one autocomplete interaction: a 200 with a type 8, each choice named by its value."""
    body = signer.encode(signer.application_command(command, focused=(option, typed), **who))
    headers = {k.lower(): v for k, v in signer.headers(body).items()}
    response = endpoint.handle(HttpRequest("POST", "/interactions", headers, body))
    assert response.status == 200, response.body
    assert response.headers["content-type"] == "application/json"
    answer: dict[str, Any] = json.loads(response.body)
    assert answer["type"] == 8
    assert set(answer) == {"type", "data"} and set(answer["data"]) == {"choices"}
    return answer


def offered(answer: dict[str, Any]) -> list[str]:
    choices: list[dict[str, Any]] = answer["data"]["choices"]
    assert len(choices) <= 25
    for choice in choices:
        assert set(choice) == {"name", "value"} and choice["name"] == choice["value"]
        assert 1 <= len(choice["name"]) <= 100
    return [choice["value"] for choice in choices]


def suggest(bot: Bot, command: str, option: str, typed: str, **who: Any) -> list[str]:
    return offered(keystroke(bot.endpoint(), bot.signer, command, option, typed, **who))


# --- ranking -------------------------------------------------------------------------------------


def test_matches_ignore_case_and_prefix_matches_come_first_each_group_in_the_lists_order(bot: Bot) -> None:
    bot.put_list("refs", ["release/1.0", "feature/Main-menu", "main", "domain-x", "MAINT", "other"], age=1)
    assert suggest(bot, "deploy", "ref", "main") == ["main", "MAINT", "feature/Main-menu", "domain-x"]
    assert suggest(bot, "deploy", "ref", "MAIN") == ["main", "MAINT", "feature/Main-menu", "domain-x"]
    assert suggest(bot, "deploy", "ref", "  rel ") == ["release/1.0"], "what was typed is trimmed"


def test_nothing_typed_offers_the_list_from_its_start(bot: Bot) -> None:
    bot.put_list("branches", ["main", "develop", "feature/x"], age=1)
    assert suggest(bot, "deploy", "branch", "") == ["main", "develop", "feature/x"]


def test_at_most_25_choices_and_prefix_matches_first_even_from_the_end_of_the_list(bot: Bot) -> None:
    contains = [f"fix/hotfix-{n:02d}" for n in range(40)]
    prefixed = [f"hot-{n}" for n in range(5)]
    bot.put_list("branches", contains + prefixed, age=1)
    assert suggest(bot, "deploy", "branch", "hot") == prefixed + contains[:20]
    bot.put_list("branches", [f"b{n:03d}" for n in range(300)], age=1)
    assert suggest(bot, "deploy", "branch", "b") == [f"b{n:03d}" for n in range(25)]


def test_ranked_on_its_own() -> None:
    assert ranked(["ab", "ba", "Abc", "cab"], "AB") == ["ab", "Abc", "cab"]
    assert ranked(["x"] * 3, "x", limit=2) == ["x", "x"]
    assert ranked(["main"], "zzz") == []


def test_no_match_in_the_list_suggests_what_was_typed(bot: Bot) -> None:
    bot.put_list("refs", ["main", "develop"], age=1)
    assert suggest(bot, "deploy", "ref", "v9.9.9") == ["v9.9.9"]
    assert bot.refreshes() == []


def test_over_long_typed_text_is_cut_to_discords_100_characters(bot: Bot) -> None:
    assert suggest(bot, "deploy", "note", "n" * 150) == ["n" * 100]


def test_a_cached_name_longer_than_discord_allows_is_not_offered(bot: Bot) -> None:
    long_branch = "feature/" + "x" * 150  # git allows it; a choice may not exceed 100 characters
    bot.put_list("branches", [long_branch, "feature/short"], age=1)
    assert suggest(bot, "deploy", "branch", "feature") == ["feature/short"]


# --- the cache: cold, fresh, stale ---------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), [("feat", ["feat"]), ("", [])])
def test_a_cold_cache_suggests_what_was_typed_and_queues_one_refresh(bot: Bot, typed: str, expected: list[str]) -> None:
    assert suggest(bot, "deploy", "branch", typed) == expected
    assert bot.refreshes() == [RefreshCache("branches")]
    assert len(bot.queue.messages) == 1


@pytest.mark.parametrize("age", [0, 30, 59])
def test_a_fresh_list_queues_nothing(bot: Bot, age: float) -> None:
    bot.put_list("tags", ["v1.0", "v1.1"], age=age)
    assert suggest(bot, "release", "tag", "v1", user_id=ADMIN_USER) == ["v1.0", "v1.1"]
    assert bot.queue.messages == []


def test_a_stale_list_is_still_used_and_refreshed_once_a_minute_however_many_keystrokes(bot: Bot) -> None:
    bot.put_list("refs", ["main", "develop"], age=300)
    endpoint = bot.endpoint()
    for second, typed in enumerate(["m", "ma", "mai", "main", "d", "de"] * 9):
        bot.clock.now = NOW + second  # 54 keystrokes within the minute
        answer = offered(keystroke(endpoint, bot.signer, "deploy", "ref", typed))
        assert answer == (["main"] if typed.startswith("m") else ["develop"])
    assert bot.refreshes() == [RefreshCache("refs")]

    bot.clock.now = NOW + 61  # nobody refreshed it: still stale, a minute later
    assert offered(keystroke(endpoint, bot.signer, "deploy", "ref", "main")) == ["main"]
    assert bot.refreshes() == [RefreshCache("refs"), RefreshCache("refs")]


def test_each_list_has_its_own_refresh(bot: Bot) -> None:
    suggest(bot, "deploy", "ref", "m")
    suggest(bot, "deploy", "branch", "m")
    suggest(bot, "release", "tag", "v", user_id=ADMIN_USER)
    assert sorted(r.source for r in bot.refreshes()) == ["branches", "refs", "tags"]


@pytest.mark.parametrize("cold", [True, False])
def test_two_instances_sharing_the_store_queue_one_refresh_between_them(bot: Bot, cold: bool) -> None:
    if not cold:
        bot.put_list("refs", ["main"], age=120)
    first, second = bot.endpoint(), bot.endpoint()
    for endpoint in (first, second, first, second):
        keystroke(endpoint, bot.signer, "deploy", "ref", "main")
        bot.clock.now += 5
    assert bot.refreshes() == [RefreshCache("refs")]


# --- who and what --------------------------------------------------------------------------------


def test_someone_not_on_the_allow_list_is_offered_nothing(bot: Bot) -> None:
    bot.put_list("tags", ["v1.0", "v2.0"], age=1000)
    assert suggest(bot, "release", "tag", "v", user_id="1150000000000000099") == []
    assert bot.queue.messages == [], "no refresh for someone who may not run it"
    assert suggest(bot, "release", "tag", "v", user_id=ADMIN_USER) == ["v1.0", "v2.0"]


def test_an_unknown_command_echoes_what_was_typed(bot: Bot) -> None:
    assert suggest(bot, "vanished", "ref", "main") == ["main"]
    assert bot.queue.messages == []


@pytest.mark.parametrize("option", ["no-such-option", "note"])
def test_an_unknown_option_or_one_without_suggestions_echoes_what_was_typed(bot: Bot, option: str) -> None:
    assert suggest(bot, "deploy", option, "hello") == ["hello"]
    assert bot.queue.messages == []


@pytest.mark.parametrize(
    ("fail_get", "fail_claim"), [(True, False), (False, True), (True, True)], ids=["read", "claim", "both"]
)
def test_a_failing_cache_echoes_what_was_typed_and_never_answers_500(
    bot: Bot, fail_get: bool, fail_claim: bool, captured_logs: Any
) -> None:
    bot.put_list("refs", ["main"], age=600)
    failing = FailingCaches(bot.caches, fail_get=fail_get, fail_claim=fail_claim)
    assert offered(keystroke(bot.endpoint(failing), bot.signer, "deploy", "ref", "mai")) == ["mai"]
    assert bot.queue.messages == []
    assert "suggestions from what was typed only" in captured_logs.getvalue()


def test_a_queue_that_is_down_still_lets_a_stale_list_be_suggested(bot: Bot) -> None:
    bot.put_list("refs", ["main"], age=600)
    bot.queue.broken = True
    assert suggest(bot, "deploy", "ref", "ma") == ["main"]


def test_an_option_with_more_choices_than_discord_lists_suggests_from_them_without_the_cache(bot: Bot) -> None:
    reading = RecordingCaches(bot.caches)
    endpoint = bot.endpoint(reading)
    assert offered(keystroke(endpoint, bot.signer, "pick", "service", "1")) == [
        "service-01",
        "service-10",
        "service-11",
        "service-12",
        "service-13",
        "service-14",
        "service-15",
        "service-16",
        "service-17",
        "service-18",
        "service-19",
        "service-21",
        "service-31",
    ]
    assert offered(keystroke(endpoint, bot.signer, "pick", "service", "")) == list(SERVICES[:25])
    assert offered(keystroke(endpoint, bot.signer, "pick", "service", "SERVICE-3")) == list(SERVICES[30:40])
    assert reading.reads == []
    assert bot.queue.messages == []


# --- commands whose options come from their workflow ---------------------------------------------


def test_a_derived_commands_environment_input_suggests_the_cached_environments(bot: Bot) -> None:
    bot.put_workflow("ship.yml", SHIP_TRIGGER, age=10)
    bot.put_list("environments", ["production", "staging", "preview-42"], age=10)
    reading = RecordingCaches(bot.caches)
    endpoint = bot.endpoint(reading)
    assert offered(keystroke(endpoint, bot.signer, "ship", "environment", "ST")) == ["staging"]
    assert offered(keystroke(endpoint, bot.signer, "ship", "environment", "pr")) == ["production", "preview-42"]
    # The workflow's entry is read once a minute per instance; each keystroke reads its list.
    environments = list_key(REPO, "environments")
    assert reading.reads == [workflow_key(REPO, "ship.yml", "main"), environments, environments]
    assert bot.queue.messages == []

    reading.reads.clear()
    assert offered(keystroke(endpoint, bot.signer, "ship", "service", "-0")) == list(SERVICES[:10])
    assert reading.reads == [], "a choice input's own choices, the workflow already derived: no read"
    assert offered(keystroke(endpoint, bot.signer, "ship", "version", "1.2")) == ["1.2"]
    assert bot.queue.messages == []


def test_a_derived_command_without_its_workflow_cached_echoes_and_asks_for_the_workflow(bot: Bot) -> None:
    assert suggest(bot, "ship", "environment", "prod") == ["prod"]
    assert bot.refreshes() == [RefreshCache("workflow", "ship.yml", "main")]
    suggest(bot, "ship", "environment", "produ")
    assert len(bot.refreshes()) == 1, "one request for the workflow a minute"


# --- not a command: no rate limit, no dispatch ---------------------------------------------------


def test_keystrokes_are_never_rate_limited_nor_dispatched(signer: InteractionSigner, bot: Bot) -> None:
    store = RefusingStore()
    bot.rate_limiter = RateLimiter(store, BucketRule(per_minute=1, burst=1), clock=bot.clock)
    bot.put_list("refs", ["main", "develop"], age=1)
    endpoint = bot.endpoint()

    body = signer.encode(signer.application_command("deploy", {"ref": "main"}))
    headers = {k.lower(): v for k, v in signer.headers(body).items()}
    refused = json.loads(endpoint.handle(HttpRequest("POST", "/interactions", headers, body)).body)
    assert refused["type"] == 4 and "Slow down" in refused["data"]["content"], "the limiter refuses commands"
    assert store.takes == 1

    for typed in ["m", "ma", "mai", "main"] * 10:
        assert offered(keystroke(endpoint, signer, "deploy", "ref", typed)) == ["main"]
    assert store.takes == 1, "no keystroke took a token"
    messages = [parse_message(m) for m in bot.queue.messages]
    assert not [m for m in messages if isinstance(m, Job)]
    assert bot.queue.of_kind("dispatch") == []
    assert len(bot.queue.of_kind("trace")) == 1, "only the refused command's"


def test_an_endpoint_without_suggestions_answers_no_choices(
    signer: InteractionSigner, autocomplete_commands: CommandSet, queue: RecordingQueue
) -> None:
    endpoint = InteractionsEndpoint(SignatureVerifier(signer.public_key_hex), autocomplete_commands, queue)
    assert offered(keystroke(endpoint, signer, "deploy", "ref", "main")) == []
    assert queue.messages == []


# --- Discord's contract --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "option", "typed"),
    [
        ("deploy", "ref", "ma"),  # ranked from the list
        ("deploy", "ref", "b"),  # 25 choices
        ("deploy", "branch", "cold"),  # the typed text echoed
        ("deploy", "branch", ""),  # no choices
        ("deploy", "note", "é" * 120),  # echoed, cut to 100
        ("pick", "service", ""),  # the option's own choices
    ],
)
def test_every_kind_of_answer_passes_discords_openapi_description(
    bot: Bot, command: str, option: str, typed: str
) -> None:
    bot.put_list("refs", ["main", "master", *(f"b{n:03d}" for n in range(40))], age=1)
    answer = keystroke(bot.endpoint(), bot.signer, command, option, typed)
    offered(answer)
    validate_interaction_response(answer)
