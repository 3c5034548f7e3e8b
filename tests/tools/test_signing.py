"""InteractionSigner: signatures that verify with Discord's scheme, and realistic payloads."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import pytest
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from orchestrator_dev.standins.signing import (
    DISCORD_EPOCH_MS,
    INTERACTION_TOKEN_PREFIX,
    InteractionSigner,
    encode,
    interaction_token,
    snowflake,
)

Tamper = Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]


def verify(signer: InteractionSigner, headers: dict[str, str], body: bytes) -> None:
    """Check a request the way an interactions endpoint must: timestamp + raw body, hex signature."""
    key = VerifyKey(bytes.fromhex(signer.public_key_hex))
    message = headers["X-Signature-Timestamp"].encode() + body
    key.verify(message, bytes.fromhex(headers["X-Signature-Ed25519"]))


def test_headers_sign_the_timestamp_and_the_exact_body() -> None:
    signer = InteractionSigner.generate()
    body = signer.encode(signer.ping())

    headers = signer.headers(body, timestamp=1_700_000_000)

    assert headers["X-Signature-Timestamp"] == "1700000000"
    assert headers["Content-Type"] == "application/json"
    assert len(headers["X-Signature-Ed25519"]) == 128
    verify(signer, headers, body)


def test_the_timestamp_defaults_to_now() -> None:
    signer = InteractionSigner.generate()

    stamp = int(signer.headers(b"{}")["X-Signature-Timestamp"])

    assert abs(stamp - time.time()) < 5


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b + b" "),
        lambda h, b: ({**h, "X-Signature-Timestamp": str(int(h["X-Signature-Timestamp"]) + 1)}, b),
        lambda h, b: (h, json.dumps(json.loads(b)).encode()),  # re-serialised: same JSON, other bytes
    ],
)
def test_any_change_breaks_the_signature(tamper: Tamper) -> None:
    signer = InteractionSigner.generate()
    body = signer.encode(signer.application_command("diagnose", {"target": "staging"}))
    headers, sent = tamper(signer.headers(body), body)

    with pytest.raises(BadSignatureError):
        verify(signer, headers, sent)


def test_another_key_does_not_verify() -> None:
    signer, impostor = InteractionSigner.generate(), InteractionSigner.generate()
    body = b'{"type":1}'

    assert signer.public_key_hex != impostor.public_key_hex
    assert len(signer.public_key_hex) == 64
    with pytest.raises(BadSignatureError):
        verify(signer, impostor.headers(body), body)


def test_encode_is_compact_utf8_json() -> None:
    body = encode({"a": [1, 2], "name": "Zoë"})

    assert body == '{"a":[1,2],"name":"Zoë"}'.encode()
    assert InteractionSigner.generate().encode({"a": 1}) == encode({"a": 1})


def test_ping_payload() -> None:
    signer = InteractionSigner.generate(application_id="1234567890123456789")

    ping = signer.ping()

    assert ping["type"] == 1
    assert ping["application_id"] == "1234567890123456789"
    assert ping["version"] == 1


def test_application_command_in_a_guild() -> None:
    signer = InteractionSigner.generate()

    payload = signer.application_command(
        "diagnose",
        {"target": "staging", "count": 3, "verbose": True, "ratio": 0.5},
        guild_id="900000000000000001",
        channel_id="900000000000000002",
        user_id="900000000000000003",
        username="mona",
        roles=["900000000000000004"],
    )

    assert payload["type"] == 2
    assert payload["application_id"] == signer.application_id
    assert payload["version"] == 1
    assert (payload["guild_id"], payload["channel_id"]) == ("900000000000000001", "900000000000000002")
    assert payload["channel"] == {**payload["channel"], "id": "900000000000000002", "type": 0}
    assert payload["member"]["user"] == {**payload["member"]["user"], "id": "900000000000000003", "username": "mona"}
    assert payload["member"]["roles"] == ["900000000000000004"]
    assert payload["member"]["permissions"].isdigit()
    assert "user" not in payload
    assert payload["data"]["name"] == "diagnose"
    assert payload["data"]["type"] == 1
    assert payload["data"]["options"] == [
        {"name": "target", "type": 3, "value": "staging"},
        {"name": "count", "type": 4, "value": 3},
        {"name": "verbose", "type": 5, "value": True},
        {"name": "ratio", "type": 10, "value": 0.5},
    ]
    assert payload["entitlements"] == []
    assert payload["context"] == 0
    assert payload["authorizing_integration_owners"] == {"0": "900000000000000001"}
    assert payload["locale"] == "en-US"
    assert payload["app_permissions"].isdigit()


def test_application_command_in_a_dm_has_a_user_and_no_member() -> None:
    payload = InteractionSigner.generate().application_command("status", guild_id=None, user_id="900000000000000003")

    assert "member" not in payload and "guild_id" not in payload
    assert payload["user"]["id"] == "900000000000000003"
    assert payload["channel"]["type"] == 1
    assert payload["context"] == 1
    assert "options" not in payload["data"]


def test_every_interaction_has_its_own_id_and_token_but_a_command_keeps_its_id() -> None:
    signer = InteractionSigner.generate()

    first, second = signer.application_command("diagnose"), signer.application_command("diagnose")

    assert first["id"] != second["id"]
    assert first["token"] != second["token"]
    assert first["data"]["id"] == second["data"]["id"]
    assert signer.application_command("status")["data"]["id"] != first["data"]["id"]


def test_interaction_tokens_look_like_discords() -> None:
    token = interaction_token("1300000000000000000")

    assert token.startswith(INTERACTION_TOKEN_PREFIX)
    assert 170 <= len(token) <= 190
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).startswith(b"interaction:1300000000000000000:")


def test_snowflakes_are_discord_ids_of_now_and_unique() -> None:
    before = int(time.time() * 1000)
    ids = [snowflake() for _ in range(5000)]
    after = int(time.time() * 1000)

    assert len(set(ids)) == len(ids)
    for value in (ids[0], ids[-1]):
        assert value.isdigit() and 18 <= len(value) <= 19
        assert before <= (int(value) >> 22) + DISCORD_EPOCH_MS <= after
    assert (int(snowflake(at=1_600_000_000.0)) >> 22) + DISCORD_EPOCH_MS == 1_600_000_000_000
