"""What only looks random, or only sounds secret, stays readable: ids, hashes, times, versions, paths, prose."""

from __future__ import annotations

import re
import string
from datetime import UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.observability.redaction import Redactor
from tests.unit.observability.strategies import OPERATOR_PATTERNS
from tests.unit.observability.support import PROPERTY

HEX = "0123456789abcdef"
REDACTOR = Redactor(
    secrets=["ghp_DecoyDecoyDecoyDecoyDecoyDecoyDeco", "decoy-webhook-secret-0x1f"],
    extra_patterns={name: re.compile(source) for name, source in OPERATOR_PATTERNS.items()},
)

trace_ids = st.text(alphabet=HEX, min_size=32, max_size=32)
snowflakes = st.integers(10**16, 2**64 - 1).map(str)
request_ids = st.uuids().map(str)
run_ids = st.integers(1, 10**11).map(str)
git_shas = st.text(alphabet=HEX, min_size=40, max_size=40)
timestamps = st.datetimes(timezones=st.just(UTC)).map(
    lambda moment: moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
)
versions = st.builds(
    lambda major, minor, patch, pre, build: f"{major}.{minor}.{patch}{pre}{build}",
    st.integers(0, 2030),
    st.integers(0, 999),
    st.integers(0, 999),
    st.sampled_from(("", "-rc.1", "-alpha", "-beta.11", "-0.3.7")),
    st.sampled_from(("", "+build.5", "+20261122.sha.4f9c2a7")),
)
identifiers = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=24).filter(
    lambda s: s[0] != "_" and not s.endswith("_")
)
module_names = st.lists(identifiers, min_size=2, max_size=6).map(".".join)
file_paths = st.lists(identifiers, min_size=1, max_size=6).map(lambda parts: "/" + "/".join(parts)) | st.tuples(
    st.lists(identifiers, min_size=1, max_size=4), identifiers, st.sampled_from((".py", ".yml", ".json", ".md", ".pem"))
).map(lambda t: "/".join(t[0]) + "/" + t[1] + t[2])
ids = st.one_of(trace_ids, snowflakes, request_ids, run_ids, git_shas, timestamps, versions, module_names, file_paths)
SEPARATORS = (" ", ", ", ": ", " (", ") ", "=", "#", "`", '"', "'", "\n", "\t", " - ", "; ")


@PROPERTY
@given(values=st.lists(ids, min_size=1, max_size=6), separators=st.lists(st.sampled_from(SEPARATORS), min_size=6))
def test_ids_hashes_times_versions_and_paths_survive(values: list[str], separators: list[str]) -> None:
    text = "".join(sep + value for sep, value in zip(separators, values, strict=False))
    assert REDACTOR.text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "orchestrator.adapters.lambda_interactions",
        "aws_lambda_powertools.utilities.idempotency.persistence.dynamodb",
        "trace 0af7651916cd43dd8448eb211c80319c",
        "guild 1150000000000000001 channel 1150000000000000002 user 1150000000000000003",
        "request 8d1c0b4e-2f7a-4c3b-9e1d-5a6b7c8d9e0f",
        "https://github.com/acme/ops/actions/runs/16000000001",
        "commit 4f9c2a7e1b3d5f8a0c6e2b4d7f9a1c3e5b8d0f2a",
        "2026-11-22T04:05:30.511Z",
        "v10.20.30-rc.1+build.5",
        "/var/task/orchestrator/adapters/lambda_interactions.py",
        "~/.ssh/id_ed25519.pub",
        "https://discord.com/api/v10/applications/1150000000000000009/commands",
        "POST /repos/acme/ops/actions/workflows/deploy.yml/dispatches",
        "ssh://git@github.com/acme/ops.git",
        "X-RateLimit-Bucket: 4f9c2a7e1b3d5f8a0c6e2b4d7f9a1c3e",
        "MTE1MDAwMDAwMDAwMDAwMDAwOQ",  # a bot token's first part alone is the bot's id, not a secret
    ],
)
def test_everyday_values_survive(text: str) -> None:
    assert REDACTOR.text(text) == text


# Ordinary prose using the words the Authorization scanner looks for, each followed by an ordinary word.
SCHEME_WORDS = ("token", "Token", "bot", "Bot", "basic", "Basic", "key", "Key", "TOKEN")
BEARER = ("Bearer", "bearer")
SHORT_WORDS = ("the", "is", "was", "has", "for", "of", "a", "an", "and", "plan", "user", "owner", "expired", "rotated")
LONG_WORDS = ("deployment", "configuration", "environment", "permissions", "notification", "rotation")


@st.composite
def prose(draw: st.DrawFn) -> str:
    words: list[str] = []
    for _ in range(draw(st.integers(3, 16))):
        choice = draw(st.integers(0, 4))
        if choice == 0:
            # A scheme word followed by a word: what a sentence about tokens looks like.
            words += [draw(st.sampled_from(SCHEME_WORDS)), draw(st.sampled_from(SHORT_WORDS + LONG_WORDS))]
        elif choice == 1:
            words += [draw(st.sampled_from(BEARER)), draw(st.sampled_from(SHORT_WORDS + LONG_WORDS))]
        else:
            words.append(draw(st.sampled_from(SHORT_WORDS + LONG_WORDS)))
    punctuation = draw(st.sampled_from((".", "!", "?", ":", "")))
    return " ".join(words) + punctuation


@PROPERTY
@given(text=prose())
def test_prose_about_tokens_bots_and_keys_survives(text: str) -> None:
    assert REDACTOR.text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "The bot token was rotated; the basic plan has no key for the owner.",
        "Token is bad. Bot is offline. Basic checks passed. Key rotation is due.",
        "Please regenerate the bot token and update the environment configuration.",
        "A bearer of bad news: the token has expired.",
        "Use a bot account, not a personal token, for the deployment.",
    ],
)
def test_sentences_survive(text: str) -> None:
    assert REDACTOR.text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Token expired.",
        "The bot stopped.",
        "the bot 1150000000000000003 joined the guild",
        "bot orchestrator.adapters.lambda_interactions started",
        "Basic authentication is disabled; token rotation happens nightly.",
    ],
)
def test_words_and_ids_after_scheme_names_survive(text: str) -> None:
    """Found by these tests: a 7-letter word and its full stop, a snowflake or a module name after
    bot/token/basic were taken for a credential."""
    assert REDACTOR.text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Requests use Bearer authentication.", id="bearer-prose"),
        pytest.param("invalid token 0af7651916cd43dd8448eb211c80319c", id="token-then-trace-id"),
        pytest.param("bot 4f9c2a7e1b3d5f8a0c6e2b4d7f9a1c3e5b8d0f2a deployed", id="bot-then-git-sha"),
    ],
)
def test_ids_after_scheme_words_survive(text: str) -> None:
    """Found by these tests: any 8+ character run after `bearer`, and trace ids and SHAs after bot/token,
    were taken for credentials."""
    assert REDACTOR.text(text) == text


def test_file_paths_with_a_webhooks_directory_survive() -> None:
    """Found by these tests: the webhook shape had no host, so any /webhooks/<digits>/ path lost a part."""
    text = "loading /srv/app/webhooks/1234/handler.py"
    assert REDACTOR.text(text) == text
