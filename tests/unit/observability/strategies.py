"""Hypothesis strategies that generate secrets of every shape the redactor knows, and ordinary text to hide them in.

Each generated `Secret` says which substrings must never survive redaction (`needles`): the whole
secret, or only its secret part where the shape keeps context on purpose (a webhook URL keeps its
host and id, a URL keeps its user, an Authorization header keeps its scheme).
"""

from __future__ import annotations

import base64
import re
import string
from dataclasses import dataclass, field
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

B64URL = string.ascii_letters + string.digits + "-_"
ALNUM = string.ascii_letters + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
# RFC 6750's b64token characters, which the Authorization scanner accepts as a credential.
B64TOKEN = ALNUM + "-._~+/"
# What a password inside a URL may hold unencoded (no '/', '@', white space, quotes or angle brackets).
URL_PASSWORD = ALNUM + "!$&*+,;=~._%-:"

# Ordinary words to surround secrets with (none of them is secret-shaped).
WORDS = (
    "the",
    "deploy",
    "failed",
    "because",
    "request",
    "returned",
    "an",
    "error",
    "while",
    "calling",
    "GitHub",
    "Discord",
    "workflow",
    "run",
    "staging",
    "production",
    "please",
    "check",
    "logs",
    "value",
    "was",
    "sent",
    "with",
    "header",
    "config",
    "line",
    "see",
    "above",
    "retry",
    "später",
    "naïve",
    "übermäßig",
)
# Punctuation around a secret, including '-' and '_' (glued before a Discord bot token, they once hid it).
SEPARATORS = (
    " ",
    "  ",
    ", ",
    ": ",
    " (",
    ") ",
    "[",
    "]",
    "{",
    "}",
    "<",
    ">",
    "'",
    '"',
    "`",
    "|",
    "=",
    ";",
    "!",
    "?",
    "*",
    "/",
    "-",
    "_",
    " -",
)
# White space that JSON escapes into a backslash and a LETTER (\n, \t, \r): in a serialised log line it
# puts a word character right before whatever follows (which once hid bot tokens and Bearer credentials).
CONTROL_SEPARATORS = ("\n", "\t", "\r\n", " \n", "\n\n")

# Any printable text, with quotes and backslashes (JSON escapes them) and non-ASCII letters; but no
# brackets or '*', the characters of "[redacted:…]" and "***": a secret that began or ended with part
# of a replacement could be "found" again across the replacement's edge without anything leaking.
CONFIGURED_SECRET_ALPHABET = ALNUM + "!#$%&()+,-./:;<=>?@^_`{|}~" + '"' + "\\" + "äßé€"


@dataclass(frozen=True)
class Secret:
    kind: str
    text: str
    needles: tuple[str, ...]
    # Configured secrets and operator patterns need the redactor built for them.
    configured: tuple[str, ...] = ()
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)


def _text(alphabet: str, low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=low, max_size=high)


def _varied(alphabet: str, low: int, high: int) -> st.SearchStrategy[str]:
    """Random text that is not one character repeated (so a 12-character fragment of it is distinctive)."""
    return _text(alphabet, low, high).filter(lambda s: len(set(s)) >= min(6, len(s)))


def fragments(core: str) -> tuple[str, ...]:
    """The random part of a secret, and its head and tail: none of them may survive.

    A head or tail is only checked when it is distinctive (6+ different characters): "000000000000"
    could just as well come from an id next to the secret."""
    pieces = [core[:12], core[-12:]] if len(core) >= 24 else []
    return (core, *(piece for piece in pieces if len(set(piece)) >= 6))


@st.composite
def discord_bot_tokens(draw: st.DrawFn) -> Secret:
    # base64(bot id) . base64(timestamp) . HMAC; lengths open-ended (24-30 . 6-8 . 27-45 and growing).
    bot_id = draw(st.sampled_from("MNO")) + draw(_varied(B64URL, 23, 29))
    stamp = draw(_text(B64URL, 6, 8))
    hmac = draw(_varied(B64URL, 27, 45))
    token = f"{bot_id}.{stamp}.{hmac}"
    return Secret("discord_bot_token", token, (token, hmac))


@st.composite
def discord_webhook_urls(draw: st.DrawFn) -> Secret:
    host = draw(st.sampled_from(("discord.com", "discordapp.com")))
    sub = draw(st.sampled_from(("", "ptb.", "canary.")))
    version = draw(st.sampled_from(("", "/v10", "/v9")))
    webhook_id = draw(_text(string.digits, 17, 20).filter(lambda s: s[0] != "0"))
    token = draw(_varied(B64URL, 60, 70))
    tail = draw(st.sampled_from(("", "/messages/@original", "?wait=true", "/slack")))
    url = f"https://{sub}{host}/api{version}/webhooks/{webhook_id}/{token}{tail}"
    return Secret("discord_webhook", url, fragments(token))


@st.composite
def interaction_tokens(draw: st.DrawFn) -> Secret:
    token = "aW50ZXJhY3Rpb246" + draw(_varied(B64URL, 60, 200))
    return Secret("interaction_token", token, (token, *fragments(token[16:])[1:]))


@st.composite
def github_tokens(draw: st.DrawFn) -> Secret:
    kind = draw(st.sampled_from(("classic", "fine_grained", "installation_2026")))
    if kind == "classic":
        prefix = draw(st.sampled_from(("ghp_", "gho_", "ghu_", "ghs_", "ghr_")))
        core = draw(_varied(ALNUM, 36, 60))
    elif kind == "fine_grained":
        prefix = "github_pat_"
        core = draw(_varied(ALNUM, 22, 22)) + "_" + draw(_varied(ALNUM, 59, 59))
    else:
        # From 2026-04 installation tokens may embed a JWT: longer, and with dots.
        prefix = "ghs_"
        header = "eyJ" + draw(_varied(B64URL, 10, 30))
        payload = "eyJ" + draw(_varied(B64URL, 20, 120))
        core = draw(_varied(ALNUM, 36, 40)) + "." + header + "." + payload + "." + draw(_varied(B64URL, 20, 60))
    token = prefix + core
    return Secret("github_token", token, (token, *fragments(core)))


@st.composite
def aws_access_keys(draw: st.DrawFn) -> Secret:
    key = draw(st.sampled_from(("AKIA", "ASIA"))) + draw(_varied(UPPER_ALNUM, 16, 16))
    return Secret("aws_access_key", key, (key, key[4:]))


@st.composite
def jwts(draw: st.DrawFn) -> Secret:
    header = "eyJ" + draw(_varied(B64URL, 8, 40))
    payload = "eyJ" + draw(_varied(B64URL, 8, 200))
    signature = draw(_varied(B64URL, 16, 86))
    token = f"{header}.{payload}.{signature}"
    return Secret("jwt", token, (token, payload, signature))


@st.composite
def private_keys(draw: st.DrawFn) -> Secret:
    label = draw(
        st.sampled_from(
            (
                "RSA PRIVATE KEY",
                "EC PRIVATE KEY",
                "OPENSSH PRIVATE KEY",
                "PRIVATE KEY",
                "ENCRYPTED PRIVATE KEY",
                "DSA PRIVATE KEY",
                "PGP PRIVATE KEY BLOCK",
            )
        )
    )
    lines = draw(st.lists(_varied(ALNUM + "+/", 40, 64), min_size=1, max_size=6))
    newline = draw(st.sampled_from(("\n", "\r\n")))
    body = newline.join(lines)
    if label.startswith("PGP"):
        body = f"Version: GnuPG v2{newline}{newline}{body}{newline}={draw(_text(ALNUM, 4, 4))}"
    truncated = draw(st.booleans())
    block = f"-----BEGIN {label}-----{newline}{body}"
    if not truncated:
        block += f"{newline}-----END {label}-----"
    return Secret("private_key", block, tuple(lines))


@st.composite
def url_passwords(draw: st.DrawFn) -> Secret:
    scheme = draw(st.sampled_from(("https", "http", "postgres", "postgresql", "mysql", "redis", "amqp", "mongodb+srv")))
    user = draw(_text(ALNUM + "._-", 0, 16))  # empty too: redis://:PASSWORD@host
    password = draw(_varied(URL_PASSWORD, 10, 40))
    host = draw(st.sampled_from(("db.internal", "10.0.0.7:5432", "cache.example.com:6379", "api.github.com")))
    path = draw(st.sampled_from(("", "/", "/app", "/0?ssl=true")))
    url = f"{scheme}://{user}:{password}@{host}{path}"
    assume(password not in f"{scheme}://{user}:@{host}{path}")  # else the test would find it in the user name
    return Secret("url_password", url, (password,))


@st.composite
def authorization_headers(draw: st.DrawFn) -> Secret:
    name = draw(st.sampled_from(("Authorization", "authorization", "AUTHORIZATION", "Proxy-Authorization")))
    colon = draw(st.sampled_from((": ", ":", ":  ")))
    scheme = draw(st.sampled_from(("Bearer", "bearer", "BEARER", "Bot", "bot", "Basic", "token")))
    gap = draw(st.sampled_from((" ", "  ", "\t")))
    if scheme.lower() == "bot":
        credential = draw(discord_bot_tokens()).text
    elif scheme == "Basic":  # base64 of user:password, letters only or not
        pair = draw(_varied(ALNUM, 3, 12)) + ":" + draw(_varied(ALNUM + "!$%&*", 6, 24))
        credential = base64.b64encode(pair.encode()).decode()
    else:
        credential = draw(_varied(B64TOKEN, 8, 80)) + draw(st.sampled_from(("", "=", "==")))
    header = f"{name}{colon}{scheme}{gap}{credential}"
    return Secret("authorization", header, fragments(credential))


@st.composite
def slack_tokens(draw: st.DrawFn) -> Secret:
    prefix = draw(st.sampled_from(("xoxb-", "xoxp-", "xoxa-", "xoxr-")))
    parts = draw(st.lists(_text(ALNUM, 6, 24), min_size=2, max_size=4))
    token = prefix + "-".join(parts)
    core = token[5:]
    return Secret("slack_token", token, (token, *fragments(core)[1:]) if len(core) >= 24 else (token,))


@st.composite
def configured_secrets(draw: st.DrawFn) -> Secret:
    value = draw(_varied(CONFIGURED_SECRET_ALPHABET, 6, 40))
    # Half the time, make sure the JSON-escaped path is exercised.
    if draw(st.booleans()):
        at = draw(st.integers(0, len(value)))
        value = value[:at] + draw(st.sampled_from(('"', "\\", '\\"', '"\\'))) + value[at:]
    # Not part of a replacement marker ("config" is in "[redacted:configured_secret]"): found there, it
    # would look like a leak.
    assume(value not in MARKERS)
    return Secret("configured_secret", value, (value,), configured=(value,))


OPERATOR_PATTERNS: dict[str, str] = {
    "acme_key": r"acme_(?:live|test)_[0-9a-f]{32}",
    "ticket_secret": r"TKS-[A-Z]{4}-[0-9]{8}",
    "vault_token": r"hvs\.[A-Za-z0-9]{24,40}",
}


MARKERS = " ".join(
    f"[redacted:{kind}]"
    for kind in (
        "configured_secret",
        "discord_bot_token",
        "discord_webhook",
        "interaction_token",
        "github_token",
        "aws_access_key",
        "jwt",
        "private_key",
        "slack_token",
        "url_password",
        "authorization",
        *OPERATOR_PATTERNS,
    )
)


@st.composite
def operator_pattern_secrets(draw: st.DrawFn) -> Secret:
    name = draw(st.sampled_from(sorted(OPERATOR_PATTERNS)))
    source = OPERATOR_PATTERNS[name]
    value = draw(st.from_regex(source, fullmatch=True))
    return Secret(f"operator:{name}", value, (value,), patterns={name: re.compile(source)})


BUILT_IN_SHAPES: dict[str, st.SearchStrategy[Secret]] = {
    "discord_bot_token": discord_bot_tokens(),
    "discord_webhook": discord_webhook_urls(),
    "interaction_token": interaction_tokens(),
    "github_token": github_tokens(),
    "aws_access_key": aws_access_keys(),
    "jwt": jwts(),
    "private_key": private_keys(),
    "url_password": url_passwords(),
    "authorization": authorization_headers(),
    "slack_token": slack_tokens(),
}

# Every kind of secret, by name: the property tests run once per kind, so each is exercised on every path.
SECRET_KINDS: dict[str, st.SearchStrategy[Secret]] = {
    **BUILT_IN_SHAPES,
    "configured_secret": configured_secrets(),
    "operator_pattern": operator_pattern_secrets(),
}
any_secret: st.SearchStrategy[Secret] = st.one_of(*SECRET_KINDS.values())


@st.composite
def sentences(draw: st.DrawFn, secret: Secret) -> str:
    """Ordinary words with the secret at a random position, between random punctuation."""
    before = draw(st.lists(st.sampled_from(WORDS), max_size=8))
    after = draw(st.lists(st.sampled_from(WORDS), max_size=8))
    separators = SEPARATORS + CONTROL_SEPARATORS
    # No separator only at the very start or end: glued to a word, a secret is a different string.
    lead: str = draw(st.sampled_from(separators if before else ("", *separators)))
    trail: str = draw(st.sampled_from(separators if after else ("", *separators)))
    return " ".join(before) + lead + secret.text + trail + " ".join(after)


INNOCENT_KEYS = ("note", "detail", "message", "items", "data", "body", "context", "reason", "text", "args")
SECRET_KEYS = (
    "token",
    "password",
    "api_key",
    "Authorization",
    "client_secret",
    "session_cookie",
    "X-Api-Key",
    "private",
    "DB_PASSWD",
    "credentials",
)


@dataclass(frozen=True)
class Nested:
    """A JSON-like structure with the secret text at one leaf, and what must not survive it."""

    value: Any
    needles: tuple[str, ...]


@st.composite
def nested(draw: st.DrawFn, leaf: str, needles: tuple[str, ...]) -> Nested:
    """Wrap `leaf` in 0-4 random layers of dicts, lists and tuples, under innocent or secret-looking keys.

    A string directly under a secret-looking key is masked to `***` + its last 4 characters, so
    everything but those 4 must not survive either."""
    value: Any = leaf
    extra = needles
    for depth in range(draw(st.integers(0, 4))):
        container = draw(st.sampled_from(("dict", "list", "tuple")))
        filler: list[Any] = draw(st.lists(st.sampled_from(WORDS), max_size=2))
        if container == "dict":
            key = draw(st.sampled_from(INNOCENT_KEYS + SECRET_KEYS))
            if depth == 0 and key in SECRET_KEYS and isinstance(value, str) and len(value) > 8:
                extra = (*extra, value[:-4])
            value = {f"k{i}": word for i, word in enumerate(filler)} | {key: value}
        else:
            at = draw(st.integers(0, len(filler)))
            items = [*filler[:at], value, *filler[at:]]
            value = items if container == "list" else tuple(items)
    return Nested(value, extra)


NEUTRAL = "Placeholder-Text"


def neutral(value: Any, secret: Secret) -> Any:
    """The same data with the secret replaced by harmless text: its output is the baseline, whatever a
    needle matches there (a key such as "allowed_mentions", a fixed label) is not a leak."""
    if isinstance(value, str):
        return value.replace(secret.text, NEUTRAL)
    if isinstance(value, dict):
        return {key: neutral(item, secret) for key, item in value.items()}
    if isinstance(value, list):
        return [neutral(item, secret) for item in value]
    if isinstance(value, tuple):
        return tuple(neutral(item, secret) for item in value)
    return value
