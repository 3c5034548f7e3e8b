"""Checks on the message bodies the bot sends Discord: the vendor's contract, Discord's limits, whole lines."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator_dev.standins.http_standin import Request
from tests.contract.openapi import discord_contract

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
EMBEDS_TOTAL_LIMIT = 6000
ICONS = ("✅", "❌", "⏳", "⏭", "⏹")
_SUMMARY = re.compile(r"^…and (\d+) more jobs: (.+)$")
_PART = re.compile(r"^(\d+) (✅|❌|⏳|⏭|⏹|not listed by GitHub)$")


def embed_size(embed: Mapping[str, Any]) -> int:
    """The characters Discord counts towards the 6,000 of a message's embeds."""
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    size += len((embed.get("footer") or {}).get("text") or "") + len((embed.get("author") or {}).get("name") or "")
    for item in embed.get("fields") or []:
        size += len(item.get("name") or "") + len(item.get("value") or "")
    return size


def check_body(body: Mapping[str, Any]) -> None:
    """Within Discord's documented limits."""
    assert len(body.get("content") or "") <= CONTENT_LIMIT
    embeds = body.get("embeds") or []
    assert len(embeds) <= 10
    for embed in embeds:
        assert len(embed.get("title") or "") <= TITLE_LIMIT
        assert len(embed.get("description") or "") <= DESCRIPTION_LIMIT
    assert sum(embed_size(embed) for embed in embeds) <= EMBEDS_TOTAL_LIMIT
    for row in body.get("components") or []:
        assert len(row["components"]) <= 5
        for button in row["components"]:
            if "custom_id" in button:
                assert 1 <= len(button["custom_id"]) <= 100


def check_requests(requests: Sequence[Request]) -> int:
    """Every message the bot sent or edited, against Discord's OpenAPI description and limits; how many."""
    checked = 0
    for request in requests:
        if request.method not in ("PATCH", "POST"):
            continue
        discord_contract().validate_request(request.method, request.path, body=request.json, query=request.query)
        assert isinstance(request.json, dict)
        check_body(request.json)
        checked += 1
    return checked


def job_line_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^(✅|❌|⏳|⏭|⏹) {re.escape(name)}( · \d+(h \d\dm|m \d\ds|s)| — step \d+/\d+: .+)?$")


def check_job_lines(description: str, jobs: Sequence[tuple[str, str]], total: int) -> int:
    """The description lists the first jobs, each on a whole line, then sums up all the others in one
    line with the right counts. `jobs`: (name, icon) of the jobs GitHub listed, in order; `total`: how
    many the run has. Returns how many jobs were listed."""
    lines = [line for line in description.split("\n") if line and not line.startswith("Total: ")]
    summaries = [line for line in lines if line.startswith("…and ")]
    listed = [line for line in lines if not line.startswith("…and ")]
    assert len(listed) <= len(jobs)
    for line, (name, icon) in zip(listed, jobs, strict=False):
        assert job_line_pattern(name).match(line), f"not a whole job line for {name!r}: {line!r}"
        assert line.startswith(icon)
    if len(listed) == total:
        assert summaries == []
        return len(listed)
    [summary] = summaries
    assert lines[-1] == summary
    match = _SUMMARY.match(summary)
    assert match, summary
    assert int(match.group(1)) == total - len(listed)
    counts: dict[str, int] = {}
    for part in match.group(2).split(", "):
        found = _PART.match(part)
        assert found, f"odd part {part!r} in {summary!r}"
        counts[found.group(2)] = int(found.group(1))
    expected = Counter(icon for _, icon in jobs[len(listed) :])
    if total > len(jobs):
        expected["not listed by GitHub"] = total - len(jobs)
    assert counts == dict(expected)
    return len(listed)
