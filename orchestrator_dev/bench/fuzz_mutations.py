"""Mutations of JSON payloads, their bytes and HTTP headers, driven by one `random.Random`.

Shared by the seeded long-form fuzzer (`orchestrator_dev.bench.fuzz`) and the hypothesis suite
(`tests/integration/fuzz/`), which draws a seed and calls these. A mutated tree may hold `Raw` values: JSON
text that Python's encoder cannot write (10,000 levels of nesting, duplicate keys, `1e400`,
escaped lone surrogates); `encode` splices them in.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class Raw:
    """JSON text written as is in place of a value."""

    text: bytes


class Again(str):
    """A key written a second time: a dict holds it beside the key it repeats (it equals only itself)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


# Strings that have broken parsers, validators and encoders elsewhere: control and format
# characters, right-to-left overrides, combining marks, astral characters, lone surrogates (as
# Python strings: `encode` writes them escaped or as invalid UTF-8), digits of other scripts.
UNICODE_EDGES = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x7f",
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",  # byte-order mark
    "\u202e",  # right-to-left override
    "\u2066abc\u2069",  # isolate
    "e\u0301",  # combining acute
    "a" + "\u0301" * 500,
    "🚀",
    "👩‍👩‍👧‍👦",  # ZWJ sequence
    "\U0010ffff",
    "\uffff",
    "\ud800",
    "\udfff",
    "x\udc80y",
    "١٢٣",  # Arabic-Indic digits: isdigit() but not ASCII
    "１２３",  # fullwidth digits
    "²",
    "İ",  # lowercases to two characters
    "ß",
    "\n\r\t",
    "${jndi:x}",
    "'; DROP TABLE x; --",
    "%s%n%x",
    "../../etc/passwd",
    "<script>",
    "NaN",
    "Infinity",
    "-0",
    "1e400",
    "18446744073709551616",
    "0x1f",
    "true",
    "null",
)
NUMBER_EDGES: tuple[int | float, ...] = (
    0,
    -1,
    1,
    2**31,
    2**53,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64 - 1,
    -(2**63),
    10**30,
    -(10**30),
    0.5,
    -0.0,
    1e308,
    5e-324,
)
RAW_EDGES = (
    Raw(b"1e400"),
    Raw(b"-1e400"),
    Raw(b"NaN"),
    Raw(b"Infinity"),
    Raw(b"-0"),
    Raw(b"1E+2"),
    Raw(b"00"),
    Raw(b"1."),
    Raw(b'"\\ud800"'),
    Raw(b'"\\udc00\\ud800"'),
    Raw(b'"\\u0000"'),
    Raw(b'"\\x41"'),
    Raw(b'{"a":1,"a":2}'),
    Raw(b"[1,]"),
    Raw(b"{,}"),
    Raw(b"undefined"),
)
NESTING_DEPTHS = (64, 1023, 1025, 10_000)
HUGE_LENGTHS = (101, 6_001, 65_537, 1_048_577)
# Bytes that are not UTF-8: a lone continuation byte, overlong forms, an encoded surrogate, 0xff.
INVALID_UTF8 = (b"\x80", b"\xc0\x80", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xf5\x80\x80\x80", b"\xff", b"\xc3")


def nested(depth: int, rng: random.Random) -> Raw:
    """`depth` levels of arrays or objects, written as text (Python's encoder would recurse)."""
    if rng.random() < 0.5:
        return Raw(b"[" * depth + b"]" * depth)
    return Raw(b'{"a":' * depth + b"1" + b"}" * depth)


def huge_string(rng: random.Random) -> str:
    length = rng.choice(HUGE_LENGTHS)
    return rng.choice(("a", "é", "🚀", "\u0301", "\\")) * length


def scalar(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.15:
        return rng.choice((None, True, False))
    if roll < 0.4:
        return rng.choice(NUMBER_EDGES)
    if roll < 0.55:
        return rng.choice(RAW_EDGES)
    if roll < 0.95:
        return rng.choice(UNICODE_EDGES)
    return "".join(rng.choice(UNICODE_EDGES) for _ in range(rng.randint(2, 6)))


def other_value(rng: random.Random, dictionary: Sequence[Any] = ()) -> Any:
    """A value to put anywhere: a scalar edge case, a container, deep nesting, a huge string,
    or (from `dictionary`) a value the real payloads carry somewhere else."""
    roll = rng.random()
    if roll < 0.25 and dictionary:
        return rng.choice(dictionary)
    if roll < 0.7:
        return scalar(rng)
    if roll < 0.8:
        return [scalar(rng) for _ in range(rng.randint(0, 3))]
    if roll < 0.9:
        return {rng.choice(("", "id", "type", "name", "value", "\x00", "🚀")): scalar(rng)}
    if roll < 0.98:
        return nested(rng.choice(NESTING_DEPTHS), rng)
    return huge_string(rng)


def tweak(value: Any, rng: random.Random) -> Any:
    """A value of the same type, changed a little: near numbers, edited strings, shorter lists."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice((-1, 1, 2**32, -(2**32), 2**64))
    if isinstance(value, float):
        return value * rng.choice((-1.0, 1e300, 0.0))
    if isinstance(value, str):
        cut = rng.randint(0, len(value))
        edit = rng.choice(("", rng.choice(UNICODE_EDGES), value, value.upper()))
        return value[:cut] + edit + value[cut + rng.randint(0, 2) :]
    if isinstance(value, list) and value:
        return value[: rng.randrange(len(value))]
    return other_value(rng)


def leaves(payload: Any) -> list[Any]:
    """Every scalar in the payload: the dictionary of real values to move about."""
    if isinstance(payload, dict):
        return [leaf for value in payload.values() for leaf in leaves(value)]
    if isinstance(payload, list):
        return [leaf for value in payload for leaf in leaves(value)]
    return [payload]


def keys(payload: Any) -> list[str]:
    if isinstance(payload, dict):
        return [*payload, *(key for value in payload.values() for key in keys(value))]
    if isinstance(payload, list):
        return [key for value in payload for key in keys(value)]
    return []


Path = tuple[str | int, ...]


def paths(payload: Any, prefix: Path = ()) -> list[Path]:
    """The path of every value below the root (containers and scalars): the fields to attack."""
    children: list[tuple[str | int, Any]] = []
    if isinstance(payload, dict):
        children = list(payload.items())
    elif isinstance(payload, list):
        children = list(enumerate(payload))
    return [p for key, value in children for p in ((*prefix, key), *paths(value, (*prefix, key)))]


def replaced(payload: Any, path: Path, value: Any) -> Any:
    """A copy of the payload with the value at `path` replaced."""
    tree = _copy(payload)
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return tree


@dataclass(frozen=True)
class Dictionary:
    """Real values and field names, gathered from the seed payloads."""

    values: tuple[Any, ...]
    names: tuple[str, ...]

    @classmethod
    def of(cls, seeds: Sequence[Any], extra: Sequence[Any] = ()) -> Dictionary:
        values = {repr(v): v for seed in seeds for v in leaves(seed)}
        values.update({repr(v): v for v in extra})
        names = sorted({k for seed in seeds for k in keys(seed)})
        return cls(tuple(values.values()), tuple(names))


def _containers(tree: Any, found: list[dict[Any, Any] | list[Any]]) -> list[dict[Any, Any] | list[Any]]:
    if isinstance(tree, dict):
        found.append(tree)
        for value in tree.values():
            _containers(value, found)
    elif isinstance(tree, list):
        found.append(tree)
        for value in tree:
            _containers(value, found)
    return found


def _copy(payload: Any) -> Any:
    """A deep copy of plain JSON data (much faster than copy.deepcopy)."""
    if isinstance(payload, dict):
        return {key: _copy(value) for key, value in payload.items()}
    if isinstance(payload, list):
        return [_copy(value) for value in payload]
    return payload


def mutate_tree(payload: Any, rng: random.Random, dictionary: Dictionary, rounds: int = 0) -> Any:
    """A mutated copy: values replaced (by other types, edge cases or values from elsewhere),
    fields deleted, added, duplicated, lists shortened or grown. `rounds` 0: 1 to 4 of them."""
    tree = _copy(payload)
    for _ in range(rounds or rng.choice((1, 1, 1, 2, 2, 3, 4))):
        containers = _containers(tree, [])
        if not containers:
            return other_value(rng, dictionary.values)
        # Weighted by size, so that every field is as likely to be hit; several changes to one
        # object at times, for fields that are only wrong together (a user with no name at all).
        [container] = rng.choices(containers, [len(c) + 1 for c in containers])
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            if isinstance(container, dict):
                _mutate_object(container, rng, dictionary)
            else:
                _mutate_array(container, rng, dictionary)
    return tree


def _mutate_object(obj: dict[Any, Any], rng: random.Random, dictionary: Dictionary) -> None:
    roll = rng.random()
    if not obj or roll < 0.15:
        name = rng.choice(dictionary.names) if dictionary.names and rng.random() < 0.7 else rng.choice(UNICODE_EDGES)
        obj[name] = other_value(rng, dictionary.values)
        return
    key = rng.choice(list(obj))
    if roll < 0.3:
        del obj[key]
    elif roll < 0.4:
        # The same key twice: JSON parsers keep the last one, or reject the object.
        obj[Again(key)] = other_value(rng, dictionary.values)
    elif roll < 0.6:
        obj[key] = tweak(obj[key], rng)
    else:
        obj[key] = other_value(rng, dictionary.values)


def _mutate_array(array: list[Any], rng: random.Random, dictionary: Dictionary) -> None:
    roll = rng.random()
    if not array or roll < 0.25:
        array.insert(rng.randint(0, len(array)), other_value(rng, dictionary.values))
    elif roll < 0.45:
        del array[rng.randrange(len(array))]
    elif roll < 0.55:
        array.extend([array[0]] * rng.choice((1, 25)))
    else:
        array[rng.randrange(len(array))] = other_value(rng, dictionary.values)


def encode(payload: Any, *, ascii_only: bool = False) -> bytes:
    """JSON bytes of a tree that may hold `Raw` values and `Again` keys. Lone surrogates in Python
    strings come out escaped (`\\ud800`) with `ascii_only`, and as invalid UTF-8 (CESU-style) without."""
    raws: list[Raw] = []

    def placeholder(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: placeholder(item) for key, item in value.items()}
        if isinstance(value, list):
            return [placeholder(item) for item in value]
        if isinstance(value, Raw):
            raws.append(value)
            return f"\x00raw{len(raws) - 1}\x00"
        return value

    body = _dumps(placeholder(payload), ascii_only)
    for index, raw in enumerate(raws):
        body = body.replace(f'"\\u0000raw{index}\\u0000"'.encode(), raw.text, 1)
    return body


def _dumps(tree: Any, ascii_only: bool) -> bytes:
    if not ascii_only:
        # orjson is several times faster; it refuses lone surrogates and integers past 64 bits.
        with contextlib.suppress(TypeError):
            return orjson.dumps(tree, option=orjson.OPT_NON_STR_KEYS)
    text = json.dumps(tree, separators=(",", ":"), ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")


def mutate_bytes(body: bytes, rng: random.Random) -> bytes:
    """Damage at the byte level: truncation, flipped bits, invalid UTF-8, a BOM, trailing junk."""
    roll = rng.random()
    at = rng.randint(0, len(body))
    if roll < 0.25:
        return body[:at]
    if roll < 0.5 and body:
        index = rng.randrange(len(body))
        return body[:index] + bytes([body[index] ^ (1 << rng.randrange(8))]) + body[index + 1 :]
    if roll < 0.7:
        return body[:at] + rng.choice(INVALID_UTF8) + body[at:]
    if roll < 0.8:
        return b"\xef\xbb\xbf" + body
    if roll < 0.9:
        return body + rng.choice((b"x", b"\x00", b"}", b" ", b"{}", b"\n" * 10))
    return rng.choice((b"", b"null", b"[]", b"{}", b"1", b'"x"', b"\x00"))


def header_value(rng: random.Random) -> str:
    """A header value that Discord or GitHub would never send."""
    return rng.choice(
        (
            "",
            " ",
            "9" * 40,
            "-1",
            "+1700000000",
            " 1700000000",
            "1700000000.5",
            "1e9",
            "١٧٠٠٠٠٠٠٠٠",
            "zz" * 64,
            "00" * 63,
            "00" * 65,
            "ÿ" * 128,
            "\ud800" * 128,
            "sha256=",
            "sha256=" + "\ud800" * 64,
            "sha256=" + "é" * 64,
            "sha1=" + "0" * 40,
            "x" * 10_000,
            *UNICODE_EDGES[:20],
        )
    )


HeaderMutation = Callable[[dict[str, str], random.Random], None]


def _drop(headers: dict[str, str], rng: random.Random) -> None:
    if headers:
        del headers[rng.choice(list(headers))]


def _recase(headers: dict[str, str], rng: random.Random) -> None:
    """Names as a client might send them; only adapters that lowercase names make this harmless."""
    if headers:
        name = rng.choice(list(headers))
        headers[rng.choice((name.upper(), name.title(), name + " "))] = headers.pop(name)


def _replace(headers: dict[str, str], rng: random.Random) -> None:
    if headers:
        headers[rng.choice(list(headers))] = header_value(rng)


def _tweak(headers: dict[str, str], rng: random.Random) -> None:
    if headers:
        name = rng.choice(list(headers))
        headers[name] = tweak(headers[name], rng)


def _add(headers: dict[str, str], rng: random.Random) -> None:
    headers[rng.choice(("x-forwarded-for", "content-length", "\x00", "🚀", ""))] = header_value(rng)


HEADER_MUTATIONS: tuple[HeaderMutation, ...] = (_drop, _recase, _replace, _replace, _tweak, _add)


def mutate_headers(headers: Mapping[str, str], rng: random.Random) -> dict[str, str]:
    """A copy with one or two headers dropped, renamed, replaced, edited or added."""
    mutated = dict(headers)
    for _ in range(rng.choice((1, 1, 2))):
        rng.choice(HEADER_MUTATIONS)(mutated, rng)
    return mutated
