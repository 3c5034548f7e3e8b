"""Helpers shared by the observability tests: capturing log lines, and looking for leaked secrets."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from orchestrator.observability.redaction import Redactor, install

# Moderate example counts keep the directory fast; OBSERVABILITY_EXAMPLES=2000 for a long hunt.
EXAMPLES = int(os.environ.get("OBSERVABILITY_EXAMPLES", "50"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# For tests parametrized by secret kind (12 kinds): fewer examples each, every kind covered.
PER_KIND = settings(PROPERTY, max_examples=max(10, EXAMPLES // 2))


def known_gap(reason: str) -> pytest.MarkDecorator:
    """A strict xfail for a real bug: the test must fail on its assertion (not on an error in the test)."""
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


FIRST_KEYS = ("ts", "level", "service", "fn", "trace_id", "correlation_id", "user_id", "cmd", "msg")


@contextlib.contextmanager
def redactor_installed(redactor: Redactor) -> Iterator[Redactor]:
    install(redactor)
    try:
        yield redactor
    finally:
        install(Redactor())


def parse_lines(text: str) -> list[dict[str, Any]]:
    """Every line as a JSON object; fails the test on a line that is not one.

    Lines end at "\n" only, as log shippers split them (str.splitlines would also split at U+0085 or
    U+2028, which JSON carries unescaped inside strings)."""
    lines: list[dict[str, Any]] = []
    for number, line in enumerate(text.removesuffix("\n").split("\n") if text else [], 1):
        try:
            parsed = json.loads(line)
        except ValueError as exc:
            raise AssertionError(f"log line {number} is not JSON ({exc}): {line[:300]!r}") from None
        assert isinstance(parsed, dict), f"log line {number} is not a JSON object: {line[:300]!r}"
        lines.append(parsed)
    return lines


def escaped_forms(needle: str) -> set[str]:
    """The needle as it would appear inside a JSON string (quotes, backslashes, control characters)."""
    return {needle, json.dumps(needle, ensure_ascii=False)[1:-1], json.dumps(needle)[1:-1]}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def leaks(output: Any, needles: Iterable[str], *, baseline: Any = None) -> list[str]:
    """The needles found in `output`: raw, JSON-escaped, or inside any JSON document it holds.

    A needle also found in `baseline` (the same output made without the secret) is not a leak: it
    matched something that is always there (a key, a label)."""
    found = [
        needle for needle in needles if any(form in text for form in escaped_forms(needle) for text in _texts(output))
    ]
    if baseline is not None and found:
        always_there = set(leaks(baseline, found))
        found = [needle for needle in found if needle not in always_there]
    return found


def _texts(output: Any) -> list[str]:
    texts: list[str] = []
    if isinstance(output, bytes):
        output = output.decode("utf-8", errors="replace")
    if isinstance(output, str):
        texts.append(output)
        documents: list[Any] = []
        for line in [output, *output.split("\n")]:
            with contextlib.suppress(ValueError):
                documents.append(json.loads(line))
        for document in documents:
            texts.extend(_strings(document))
    else:
        texts.extend(_strings(output))
        texts.append(json.dumps(output, ensure_ascii=False, default=str))
    return texts


def assert_no_leak(output: Any, needles: Iterable[str], where: str, *, baseline: Any = None) -> None:
    found = leaks(output, needles, baseline=baseline)
    if found:
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False, default=str)
        context = []
        for needle in found:
            for form in escaped_forms(needle):
                at = text.find(form)
                if at >= 0:
                    context.append(text[max(0, at - 300) : at + len(form) + 100])
                    break
        raise AssertionError(f"{where} leaked {found!r}; around it: {context!r}\n{text[:1500]}")
