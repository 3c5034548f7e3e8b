"""The few log lines that say why a step failed, read from a stream that may be hundreds of MB.

The Actions runner writes one line per output line, each prefixed with a timestamp; every step
but the first ("Set up job") starts with `##[group]Run <action or first command line>`, then the
step's script, `with:` and `env:` lines, then `##[endgroup]`, then its output; errors are
`##[error]…` lines. So the log splits into sections at those markers: section k is step k + 1.
A step with a default name ("Run pytest") is found by its marker instead, which survives steps
that print no marker (a composite action's inner steps add markers of their own, which the
number cannot see; the name can). Only a bounded window is ever kept: memory does not grow with
the log, and reading stops as soon as the window is known.

Limits of the heuristic: a step with a custom name after a composite action (or after a step
that printed no marker) is found by number only, so it may point at a neighbouring section. A
default-named step's marker is looked for only until the numbered section's first error: reading
on past it would cost every custom "Run …" name (which no marker matches) the rest of the log, so
when a composite action shifts the count and the section the number points at holds an error
(continue-on-error), that section is shown. A header that never closes with `##[endgroup]` is
skipped for at most MAX_HEADER_LINES lines.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

MAX_LINE_BYTES = 64 * 1024  # a longer line is cut while it streams, never accumulated
MAX_SHOWN_LINE = 300
# A step's header (its script, `with:` and `env:`) ends at `##[endgroup]`; one that never closes
# is taken as output after this many lines, so a missing marker cannot hide the whole step.
MAX_HEADER_LINES = 500
_MARKER = "##[group]Run "
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0, DEL and C1 (a lone CSI)


@dataclass(frozen=True)
class LogExcerpt:
    lines: tuple[str, ...]  # cleaned, not yet redacted (the caller redacts)
    found_error: bool  # the window ends at the chosen step's first ##[error]
    cut: bool  # reading stopped (byte cap or time) before the chosen step ended
    step_found: bool  # the chosen step's section was found
    bytes_read: int


def excerpt_from_stream(
    chunks: Iterable[bytes],
    *,
    step_number: int,
    step_name: str,
    max_bytes: int,
    max_lines: int = 40,
    max_chars: int = 1500,
    out_of_time: Callable[[], bool] = lambda: False,
) -> LogExcerpt:
    """The chosen step's lines up to and including its first error (else its last lines)."""
    by_name = step_name.startswith("Run ")
    reader = _Lines(chunks, max_bytes, out_of_time)
    section = 0  # markers seen so far: the lines now read belong to step section + 1
    named: int | None = None  # the section whose marker is the step's own name
    # Lines are kept raw and cleaned only when shown: most of a long log is plain output lines
    # that merely pass through a window, and cleaning each would cost most of the read.
    windows: dict[int, deque[bytes]] = {}
    header = 0  # lines of the current step's header still to skip (0: in its output)
    for raw in reader:
        if b"##[" not in raw:  # plain output: no marker, no error
            if header:
                header -= 1
            else:
                windows.setdefault(section, deque(maxlen=max_lines)).append(raw)
            continue
        line = _clean(raw)
        if line.startswith(_MARKER):
            section += 1
            header = MAX_HEADER_LINES
            if by_name and named is None and f"Run {line[len(_MARKER) :].strip()}" == step_name.strip():
                named = section
            if _settled(section, step_number, by_name, named):
                break  # the chosen section is over: nothing after it can change the window
            # Keep memory bounded however many steps there are: only windows still in the running.
            for stale in [k for k in windows if k not in (_chosen(step_number, named), section)]:
                del windows[stale]
            continue
        if header:
            header = 0 if line == "##[endgroup]" else header - 1
            continue
        window = windows.setdefault(section, deque(maxlen=max_lines))
        if not line.startswith(("##[endgroup]", "##[debug]")):
            window.append(raw)
        if line.startswith("##[error]") and section == _chosen(step_number, named):
            return _excerpt(window, True, False, True, reader.bytes_read, max_chars)
    chosen = _chosen(step_number, named)
    found = chosen <= section
    # The step's part never seen: the last lines read say the most.
    window = windows.get(chosen if found else section) or deque()
    return _excerpt(window, False, reader.cut, found, reader.bytes_read, max_chars)


def _chosen(step_number: int, named: int | None) -> int:
    """The section to show: the one named after the step, else the one its number gives."""
    return named if named is not None else max(0, step_number - 1)


def _settled(section: int, step_number: int, by_name: bool, named: int | None) -> bool:
    """True once a new section starts after the chosen one, and no later marker can change it."""
    if named is not None:
        return section > named
    return not by_name and section > max(0, step_number - 1)


def _clean(raw: bytes) -> str:
    line = _TIMESTAMP.sub("", raw.decode("utf-8", "replace").lstrip("\ufeff"), count=1)
    return _CONTROL.sub("", _ANSI.sub("", line.replace("\t", "    "))).rstrip()


def _shown(line: str) -> str:
    """How a runner line reads in chat."""
    for marker, label in (("##[error]", "Error: "), ("##[warning]", "Warning: "), ("##[notice]", "Notice: ")):
        if line.startswith(marker):
            line = label + line[len(marker) :]
            break
    else:
        line = line.removeprefix("##[group]").removeprefix("##[command]")
    return line if len(line) <= MAX_SHOWN_LINE else line[: MAX_SHOWN_LINE - 1] + "…"


def _excerpt(window: Iterable[bytes], error: bool, cut: bool, found: bool, read: int, max_chars: int) -> LogExcerpt:
    lines = [_shown(_clean(raw)) for raw in window]
    while lines and sum(len(line) + 1 for line in lines) - 1 > max_chars:
        lines.pop(0)  # the lines nearest the error say the most: drop from the top
    return LogExcerpt(tuple(lines), error, cut, found, read)


class _Lines:
    """Lines (bytes, without their newline) from byte chunks: a line split across chunks (or inside
    a UTF-8 character) is joined; an endless line is cut at MAX_LINE_BYTES; reading stops at
    `max_bytes` or when time is up."""

    def __init__(self, chunks: Iterable[bytes], max_bytes: int, out_of_time: Callable[[], bool]) -> None:
        self._chunks = chunks
        self._max_bytes = max_bytes
        self._out_of_time = out_of_time
        self.bytes_read = 0
        self.cut = False

    def __iter__(self) -> Iterator[bytes]:
        partial = bytearray()
        for received in self._chunks:
            if self._out_of_time():
                self.cut = True
                return
            chunk = received[: self._max_bytes - self.bytes_read]
            self.bytes_read += len(chunk)
            start = 0
            while (end := chunk.find(b"\n", start)) != -1:
                if partial:
                    partial += chunk[start:end][: max(0, MAX_LINE_BYTES - len(partial))]
                    yield bytes(partial)
                    partial.clear()
                else:
                    yield chunk[start : min(end, start + MAX_LINE_BYTES)]
                start = end + 1
            partial += chunk[start:][: max(0, MAX_LINE_BYTES - len(partial))]
            if self.bytes_read >= self._max_bytes:
                # At the cap, even inside the last chunk: the rest is never read, and the half line
                # left over would only show a torn timestamp.
                self.cut = True
                return
        if partial:
            yield bytes(partial)
