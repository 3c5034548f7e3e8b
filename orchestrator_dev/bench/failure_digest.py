"""Issue 11's figures: the digest of a failed job whose log is 50 MB, and GitHub calls per run.

Measured in a child process, so its peak RSS is the digest's alone: the child first builds a
digest of a small log (everything imported, clients warm: the worker's steady state), then reads
the 50 MB log both ways: as the baseline, the bare stream through the same HTTP client with
nothing kept; then the whole digest. GitHub and its log host are stubbed at the HTTP layer
(httpx.MockTransport), the log streamed from a generator, never held.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

LOG_BYTES = 50_000_000
_LINE = b"2026-12-01T12:00:03.1234567Z collected 4182 items / running tests/test_shard_0042.py ........\n"
_HEAD = (
    b"2026-12-01T12:00:00.0000000Z Current runner version: '2.321.0'\n"
    b"2026-12-01T12:00:02.0000000Z ##[group]Run pytest\n"
    b"2026-12-01T12:00:02.0000000Z ##[endgroup]\n"
)
_TAIL = (
    b"2026-12-01T12:30:00.0000000Z E   AssertionError: expected 200, got 503\n"
    b"2026-12-01T12:30:00.1000000Z ##[error]Process completed with exit code 1.\n"
)


@dataclass(frozen=True)
class DigestFigures:
    wall_s: float
    cpu_s: float
    rss_increase_mb: float
    baseline_wall_s: float
    baseline_cpu_s: float
    baseline_rss_increase_mb: float
    lines_kept: int
    calls_per_failed_run: int  # five failed jobs: the jobs list, then the digest's own calls (3 jobs described)
    calls_per_successful_run: int


def measure() -> DigestFigures:
    child = subprocess.run(
        [sys.executable, "-m", "orchestrator_dev.bench.failure_digest"], capture_output=True, text=True, check=True
    )
    return DigestFigures(**json.loads(child.stdout))


def _log(size: int) -> Iterator[bytes]:
    yield _HEAD
    chunk = _LINE * (65536 // len(_LINE))
    for _ in range(max(0, size - len(_HEAD) - len(_TAIL)) // len(chunk)):
        yield chunk
    yield _TAIL


def _job(job_id: int) -> dict[str, object]:
    steps = [
        {"number": 1, "name": "Set up job", "conclusion": "success"},
        {"number": 2, "name": "Run pytest", "conclusion": "failure"},
    ]
    return {"id": job_id, "name": f"test ({job_id})", "conclusion": "failure", "steps": steps}


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith(field))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1])


def _reset_peak() -> bool:
    """Linux: writing 5 to clear_refs sets the peak RSS back to the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _timed(action: Callable[[], object]) -> tuple[float, float, float, object]:
    """Wall and CPU seconds, and how far the peak RSS rose above the RSS before the action."""
    reset = _reset_peak()
    before = _status_kb("VmRSS:") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _status_kb("VmHWM:") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return wall, cpu, max(0, (peak or 0) - (before or 0)) / 1024, result


def _child() -> DigestFigures:
    import httpx

    from orchestrator.clients.github_api import GitHubClient
    from orchestrator.clients.job_logs import JobLogDownloader
    from orchestrator.failures.builder import DigestBuilder

    size = {"bytes": 100_000}
    calls: list[str] = []

    def github(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("/annotations"):
            return httpx.Response(200, json=[])
        return httpx.Response(302, headers={"Location": "https://logs.example/job?sig=x"})

    def storage(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)  # GitHub's log storage: counted as a GitHub call
        return httpx.Response(200, content=_log(size["bytes"]))

    api = GitHubClient(httpx.Client(transport=httpx.MockTransport(github)), "https://api.github.test", "t", "o/r")
    logs = httpx.Client(transport=httpx.MockTransport(storage))
    builder = DigestBuilder(api, JobLogDownloader(logs), max_log_bytes=64_000_000, budget_seconds=60)
    builder.build("ci.yml", "failure", 1, [_job(1)])  # steady state: imported, warm

    def bare_stream() -> int:
        with logs.stream("GET", "https://logs.example/job") as response:
            return sum(len(chunk) for chunk in response.iter_bytes(65536))

    size["bytes"] = LOG_BYTES
    base_wall, base_cpu, base_rss, read = _timed(bare_stream)
    assert isinstance(read, int) and read >= LOG_BYTES * 0.99
    wall, cpu, rss, digest = _timed(lambda: builder.build("ci.yml", "failure", 1, [_job(2)]))
    lines = len(digest.jobs[0].log)  # type: ignore[attr-defined]
    size["bytes"] = 100_000
    calls.clear()
    builder.build("ci.yml", "failure", 1, [_job(n) for n in range(3, 8)])
    return DigestFigures(
        wall_s=wall,
        cpu_s=cpu,
        rss_increase_mb=rss,
        baseline_wall_s=base_wall,
        baseline_cpu_s=base_cpu,
        baseline_rss_increase_mb=base_rss,
        lines_kept=lines,
        calls_per_failed_run=1 + len(calls),
        # The tracker asks for a digest only when the conclusion is a failure (tests/unit/runs prove it
        # end to end): a successful run makes no call beyond the jobs list it always fetched.
        calls_per_successful_run=0,
    )


if __name__ == "__main__":
    print(json.dumps(asdict(_child())))
