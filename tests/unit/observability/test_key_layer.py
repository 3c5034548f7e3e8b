"""Layer 1: values under secret-sounding keys become `***` + their last 4 characters, however deep they sit."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.observability.logging import get_logger
from orchestrator.observability.redaction import MASK, Redactor, is_secret_key, mask
from tests.unit.observability.support import PROPERTY, parse_lines

SECRET_WORDS = (
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "api_key",
    "apikey",
    "api-key",
    "authorization",
    "authorisation",
    "credential",
    "credentials",
    "cookie",
    "session",
    "signature",
    "private",
)
PREFIXES = ("", "x_", "X-", "db_", "client_", "aws_", "discord_bot_", "refresh", "github-", "set-", "proxy-")
SUFFIXES = ("", "_value", "-header", "_b64", "s", "_2", "Id")
OUR_ID_KEYS = ("idempotency_key", "dedupe_key", "public_key", "partition_key", "sort_key")
INNOCENT_KEYS = (
    "monkey",
    "keys",
    "keyboard",
    "turkey",
    "hockey",
    "author",
    "description",
    "trace_id",
    "run_id",
    "user_id",
    "interaction_id",
    "name",
    "status",
    "url",
    "html_url",
    "workflow",
)


@st.composite
def secret_keys(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(SECRET_WORDS))
    cased = "".join(c.upper() if draw(st.booleans()) else c for c in word)
    key = draw(st.sampled_from(PREFIXES)) + cased + draw(st.sampled_from(SUFFIXES))
    if draw(st.booleans()):
        key = key.upper()
    return key


def bare_key_names() -> list[str]:
    """`key` as a word of its own: KEY, key, x-key, key_id, ..."""
    return ["key", "KEY", "Key", "x-key", "key_id", "signing_key", "SSH_KEY", "stripe.key", "key-material"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(INNOCENT_KEYS), children),
    max_leaves=8,
)


@PROPERTY
@given(key=secret_keys(), value=json_values)
def test_secret_keys_are_masked_to_their_last_four_characters(key: str, value: Any) -> None:
    assert is_secret_key(key), key
    text = None if value is None else value if isinstance(value, str) else str(value)
    expected = MASK if text is None or len(text) <= 4 else MASK + text[-4:]
    assert mask(value) == expected
    assert Redactor().value({key: value}) == {key: expected}
    assert Redactor().keys_only({key: value}) == {key: expected}


@pytest.mark.parametrize("key", bare_key_names())
def test_key_as_a_word_is_secret(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "***"),
        ("", "***"),
        ("abcd", "***"),
        ("abcde", "***bcde"),
        ("ghp_0123456789abcdef0123456789abcdef0123", "***0123"),
        (123456, "***3456"),
        (1234, "***"),
        (True, "***"),
        (False, "***alse"),
        (["a", "b"], "***'b']"),
        ({"a": "bcdefg"}, "***fg'}"),
    ],
)
def test_mask(value: Any, expected: str) -> None:
    assert mask(value) == expected


@PROPERTY
@given(
    key=secret_keys(),
    secret=st.text(min_size=5, max_size=40),
    path=st.lists(st.sampled_from(("dict", "list", "tuple")), max_size=5),
)
def test_masking_reaches_any_depth(key: str, secret: str, path: list[str]) -> None:
    value: Any = {key: secret, "status": "ok"}
    expected: Any = {key: MASK + secret[-4:], "status": "ok"}
    for container in path:
        if container == "dict":
            value, expected = {"data": value}, {"data": expected}
        elif container == "list":
            value, expected = ["x", value], ["x", expected]
        else:  # tuples come back as lists: the result is JSON-like
            value, expected = ("x", value), ["x", expected]
    assert Redactor().value(value) == expected
    assert Redactor().keys_only(value) == expected


@pytest.mark.parametrize("key", [*OUR_ID_KEYS, *(k.upper() for k in OUR_ID_KEYS), "Idempotency_Key"])
def test_our_id_keys_are_not_masked(key: str) -> None:
    value = "1150000000000000001#deploy"
    assert not is_secret_key(key)
    assert Redactor().value({key: value}) == {key: value}
    assert Redactor().value([{"record": {key: value}}]) == [{"record": {key: value}}]


@pytest.mark.parametrize("key", INNOCENT_KEYS)
def test_innocent_keys_are_not_masked(key: str) -> None:
    value = "https://github.com/acme/ops/actions/runs/16000000001"
    assert not is_secret_key(key)
    assert Redactor().value({key: value}) == {key: value}


def test_non_string_keys_are_not_secret() -> None:
    assert Redactor().value({1: "value", None: "other", ("token",): "x"}) == {
        1: "value",
        None: "other",
        ("token",): "x",
    }


def test_masked_value_is_not_scanned_but_other_values_are() -> None:
    bot = "MTE1MDAwMDAwMDAwMDAwMDAwOQ.GzX1bQ.8fKqW3nV0pLx7RtY2sJd5HcB9mZa4UeTgNoQ"
    result = Redactor().value({"token": bot, "note": f"token is {bot}"})
    assert result == {"token": "***gNoQ", "note": "token is [redacted:discord_bot_token]"}


def test_log_extras_are_masked_by_key(logs: io.StringIO) -> None:
    get_logger().info(
        "calling GitHub",
        extra={
            "password": "hunter2-Hunter2",
            "request": {"headers": {"Authorization": "Bearer q7Vd93kLmZ0xW2rT", "Accept": "application/json"}},
            "attempts": [{"api_key": "k3y-Material-Value"}, ({"session_cookie": None},)],
            "idempotency_key": "1150000000000000001",
        },
    )
    [line] = parse_lines(logs.getvalue())
    assert line["password"] == "***ter2"
    assert line["request"] == {"headers": {"Authorization": "***W2rT", "Accept": "application/json"}}
    assert line["attempts"] == [{"api_key": "***alue"}, [{"session_cookie": "***"}]]
    assert line["idempotency_key"] == "1150000000000000001"
    assert "hunter2-Hun" not in json.dumps(line) and "q7Vd93kLmZ0x" not in json.dumps(line)
