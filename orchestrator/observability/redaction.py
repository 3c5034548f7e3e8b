"""Two layers of secret redaction, applied to every output: logs, traces, /debug-last, alerts,
messages to users.

1. By key: a value under a key whose name says it is secret (token, secret, password, key,
   authorization, cookie, ...) becomes `***` plus its last 4 characters (`***` alone when it
   has 4 or fewer), however deep it sits in dicts, lists and tuples.
2. By value, in free text too: the shapes of known credentials (Discord bot tokens, webhook
   URLs and interaction tokens, GitHub tokens, AWS key ids, JWTs, private keys, URL passwords,
   Authorization headers, Slack tokens), the configured secrets themselves, and patterns an
   operator adds. Each becomes `[redacted:<kind>]`.

Ids that only look random stay readable: trace ids (32 hex), snowflakes, request ids, run ids
and git SHAs match none of the shapes. Speed matters (every log line passes through here), so
each shape runs only when a cheap substring test says it could match.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MASK = "***"
# Key names that mark their value secret; matched case-insensitively anywhere in the key.
_SECRET_KEY = re.compile(
    r"token|secret|passw(?:or)?d|pwd|passphrase|(?<![a-z])key(?![a-z])|(?-i:[a-z0-9]Key)(?![a-z])|_key|key_|"
    r"apikey|api-key|"
    r"authori[sz]ation|credential|cookie|session|signature|private",
    re.IGNORECASE,
)
# Keys our own records use whose values are ids, never secrets, though the names look close.
_NOT_SECRET_KEYS = frozenset({"idempotency_key", "dedupe_key", "public_key", "partition_key", "sort_key"})
MIN_SECRET_LENGTH = 6  # shorter configured "secrets" would redact ordinary words
MAX_PATTERN_LENGTH = 500
# Text to find patterns that can match nothing at all (empty, or zero-width like \b or lookarounds).
_EMPTY_MATCH_PROBE = "a token: 0af7651916cd43dd ghp_x Bearer y\n"


class RedactionPatternError(ValueError):
    pass


@dataclass(frozen=True)
class Shape:
    kind: str
    pattern: re.Pattern[str]
    # The shape can only match text containing one of these (checked at C speed first).
    hints: tuple[str, ...]
    # Which group to replace; 0 is the whole match. Other groups keep context (a URL's host).
    group: int = 0


_WORD = r"[A-Za-z0-9_-]"
# Every pattern starts with a literal where it can: Python's regex engine then jumps between
# occurrences of that literal instead of trying each position (a leading \b or character class
# makes scanning 10 KB ~40x slower).
BUILT_IN_SHAPES: tuple[Shape, ...] = (
    Shape(
        "private_key",
        re.compile(
            # To its END line; a truncated block, to the end of the text or of the JSON string it is in.
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"
            # (an escape such as \" or \n is one unit: a JSON string's escaped quote does not end it)
            r"(?:(?!-----END)(?:\\.|[^\"\\]))*(?:-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----)?",
            re.S,
        ),
        ("PRIVATE KEY",),
    ),
    Shape(
        "discord_webhook",
        re.compile(r"discord(?:app)?\.com/api(?:/v\d+)?/webhooks/\d+/([A-Za-z0-9._-]+)"),
        ("/webhooks/",),
        group=1,
    ),
    Shape("interaction_token", re.compile(r"aW50ZXJhY3Rpb246[A-Za-z0-9_.=-]+"), ("aW50ZXJhY3Rpb246",)),
    Shape("github_token", re.compile(r"gh[pousr]_[A-Za-z0-9_.-]{16,}"), ("gh",)),
    Shape("github_token", re.compile(r"github_pat_[A-Za-z0-9_]{20,}"), ("github_pat_",)),
    Shape("aws_access_key", re.compile(r"A[KS]IA[A-Z0-9]{16}(?![A-Z0-9])"), ("AKIA", "ASIA")),
    Shape("jwt", re.compile(rf"eyJ{_WORD}{{8,}}\.{_WORD}{{8,}}\.{_WORD}*"), ("eyJ",)),
    Shape("slack_token", re.compile(r"xox[abposr]-[A-Za-z0-9-]{10,}"), ("xox",)),
    Shape("url_password", re.compile(r"://([^/\s:@\"'<>]*):([^/\s@\"'<>]+)@"), ("://",), group=2),
)
# Discord bot token: base64 of the bot's id (so it starts M, N or O), a dot, a timestamp, a dot,
# an HMAC; lengths open-ended, they have grown before. Found by its middle (a literal dot).
_BOT_TOKEN_MIDDLE = re.compile(rf"\.{_WORD}{{4,}}\.{_WORD}{{20,}}")
_BOT_TOKEN_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_BOT_TOKEN_MIN_ID = 21
# Authorization schemes, found with str.find on lower-cased text (a case-insensitive regex
# cannot use the literal fast path). The value must look like a credential, not a word.
_AUTH_SCHEMES = ("bearer", "bot", "basic", "token")
# Separators as they appear in free text, in URLs (%20) and in serialised JSON (a tab is `\t`).
_AUTH_VALUE = re.compile(r"(?:[ \t]+|%20|\\t)([A-Za-z0-9._~+/=-]{8,})")
_AFTER_AUTHORIZATION_HEADER = re.compile(r"authorization\s*[:=]\s*[\"']?\s*$", re.IGNORECASE)
_LONG_WITHOUT_DIGITS = 20


class Redactor:
    def __init__(
        self,
        *,
        secrets: Iterable[str] = (),
        extra_patterns: Mapping[str, re.Pattern[str]] | None = None,
    ) -> None:
        custom = tuple(Shape(name, pattern, ()) for name, pattern in (extra_patterns or {}).items())
        self._shapes = BUILT_IN_SHAPES + custom
        # Longest first, so a secret containing another is replaced whole. Each also in its
        # JSON-escaped form, since log lines are redacted after serialising.
        known = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._secrets = [(s, _json_escaped(s)) for s in known]
        self._custom = dict(extra_patterns or {})

    def with_secrets(self, more: Iterable[str]) -> Redactor:
        """The same redactor, knowing more configured secrets (read later, on first use)."""
        return Redactor(secrets=[s for s, _ in self._secrets] + list(more), extra_patterns=self._custom)

    def text(self, value: str) -> str:
        """Free text with every secret shape and configured secret replaced."""
        for secret, escaped in self._secrets:
            # The JSON-escaped form first: it contains the raw form when the secret has a quote
            # or backslash, and replacing the raw form inside it would leave a stray backslash.
            if escaped != secret and escaped in value:
                value = value.replace(escaped, "[redacted:configured_secret]")
            if secret in value:
                value = value.replace(secret, "[redacted:configured_secret]")
        for shape in self._shapes:
            if not shape.hints:
                value = _apply(shape, value)
                continue
            for hint in shape.hints:  # a plain loop: any() with a generator costs more than the test
                if hint in value:
                    value = _apply(shape, value)
                    break
        value = _redact_authorization(value)
        return _redact_bot_tokens(value) if "." in value else value

    def value(self, value: Any) -> Any:
        """Any JSON-like value: keys checked (layer 1), strings scanned (layer 2), recursively."""
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, int | float):
            return value
        if isinstance(value, Mapping):
            return {k: self._entry(k, v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(item) for item in value]
        return self.text(str(value))

    def keys_only(self, value: Any) -> Any:
        """Layer 1 alone, for structures whose text is scanned later as a whole (log lines)."""
        if value is None or isinstance(value, str | int | float):  # the common case, checked first
            return value
        if isinstance(value, Mapping):
            return {k: mask(v) if is_secret_key(k) else self.keys_only(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.keys_only(item) for item in value]
        return value

    def _entry(self, key: object, value: Any) -> Any:
        return mask(value) if is_secret_key(key) else self.value(value)


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and _is_secret_name(key)


@functools.lru_cache(maxsize=4096)
def _is_secret_name(key: str) -> bool:
    # Cached: log lines and records reuse a small set of key names, and this runs for every one.
    return key.lower() not in _NOT_SECRET_KEYS and bool(_SECRET_KEY.search(key))


def mask(value: Any) -> str:
    """`***` and the last 4 characters, enough to tell two credentials apart; `***` if short."""
    if value is None:
        return MASK
    text = value if isinstance(value, str) else str(value)
    return MASK if len(text) <= 4 else MASK + text[-4:]


def compile_custom_pattern(name: str, source: str) -> re.Pattern[str]:
    """Validate an operator's pattern: a name, a regex that compiles and cannot match nothing."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", name):
        raise RedactionPatternError(f"{name!r}: names are 1-32 lowercase letters, digits or _")
    if not isinstance(source, str) or not source or len(source) > MAX_PATTERN_LENGTH:
        raise RedactionPatternError(f"{name}: expected a regular expression of 1-{MAX_PATTERN_LENGTH} characters")
    try:
        pattern = re.compile(source)
    except re.error as exc:
        raise RedactionPatternError(f"{name}: not a valid regular expression ({exc})") from None
    if _max_width(source) == 0 or any(m.start() == m.end() for m in pattern.finditer(_EMPTY_MATCH_PROBE)):
        raise RedactionPatternError(
            f"{name}: can match an empty string (e.g. a lookaround alone), which redacts nothing"
        )
    return pattern


def _max_width(source: str) -> int | None:
    """The longest text a pattern can match (0: only ever empty), from the regex parser itself."""
    try:  # the stdlib's own regex parser: no public API tells a pattern's widths
        parser = importlib.import_module("re._parser")
    except ImportError:
        return None
    return int(parser.parse(source).getwidth()[1])


def _apply(shape: Shape, value: str) -> str:
    replacement = f"[redacted:{shape.kind}]"
    if shape.group == 0:
        # An empty match (possible in an operator's pattern) has nothing to hide: left as it is.
        return shape.pattern.sub(lambda m: replacement if m.end() > m.start() else "", value)

    def keep_context(match: re.Match[str]) -> str:
        start, end = match.span(shape.group)
        whole_start = match.start()
        text = match.group(0)
        return text[: start - whole_start] + replacement + text[end - whole_start :]

    return shape.pattern.sub(keep_context, value)


def _redact_authorization(value: str) -> str:
    lowered = value.lower()
    spans: list[tuple[int, int]] = []
    for scheme in _AUTH_SCHEMES:
        at = lowered.find(scheme)
        while at != -1:
            match = _AUTH_VALUE.match(value, at + len(scheme))
            if (
                match
                and _starts_word(value, at)
                and _is_credential(scheme, match.group(1), value[max(0, at - 40) : at])
            ):
                spans.append(match.span(1))
            at = lowered.find(scheme, at + 1)
    if not spans:
        return value
    pieces: list[str] = []
    done = 0
    for start, end in sorted(spans):
        if start >= done:
            pieces += [value[done:start], "[redacted:authorization]"]
            done = end
    return "".join(pieces) + value[done:]


def _starts_word(value: str, at: int) -> bool:
    # After a JSON escape (`\nBearer`), the letter before the word belongs to the escape.
    return at == 0 or not value[at - 1].isalnum() or (at >= 2 and value[at - 2] == "\\")


def _is_credential(scheme: str, candidate: str, before: str) -> bool:
    """Whether the word after a scheme name is a credential rather than prose or an id."""
    if _AFTER_AUTHORIZATION_HEADER.search(before):
        return True  # anything in an Authorization header is a credential
    word = candidate.rstrip(".")  # a sentence's full stop is not part of it
    if scheme == "bearer":  # a bearer token, unless it is a plain word ("Bearer authentication")
        return not word.isalpha() or len(word) >= _LONG_WITHOUT_DIGITS
    if len(word) < 12 or word.isdigit() or word.isalpha() or "." in word or _is_hex(word):
        return False  # short words, ids, plain words, dotted names, trace ids and SHAs are not secrets
    return any(c.isdigit() for c in word) and any(c.isalpha() for c in word)


def _is_hex(word: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in word)


def _redact_bot_tokens(value: str) -> str:
    pieces: list[str] = []
    done = 0
    for match in _BOT_TOKEN_MIDDLE.finditer(value):
        start = match.start()
        while start > done and value[start - 1] in _BOT_TOKEN_ID_CHARS:
            start -= 1
        # The id part starts at an M, N or O; whatever is glued before it (a word, the letter of a
        # JSON escape such as `\n`) is not part of the token.
        start = next((i for i in range(start, match.start() - _BOT_TOKEN_MIN_ID + 1) if value[i] in "MNO"), -1)
        if start >= 0:
            pieces.append(value[done:start])
            pieces.append("[redacted:discord_bot_token]")
            done = match.end()
    return "".join(pieces) + value[done:] if pieces else value


def _json_escaped(secret: str) -> str:
    return secret.replace("\\", "\\\\").replace('"', '\\"')


_active = Redactor()


def active_redactor() -> Redactor:
    """The process's redactor: built-in shapes until `install` adds the configured secrets."""
    return _active


def install(redactor: Redactor) -> None:
    global _active  # noqa: PLW0603 - set once at start, read by every output path
    _active = redactor
