"""Metrics through Powertools Metrics (CloudWatch EMF), emitted by the worker.

The interactions function emits none per request: every figure it knows (its ACK, denials)
reaches the worker in the queue message, so the 3-second path writes one log line, not two.
Dimensions stay low-cardinality: a command name from the commands file (anything else is
`other`) and the service.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "Orchestrator"
SERVICE = "orchestrator"
OTHER_COMMAND = "other"

# Metric names, each with its unit.
COMMAND_ACCEPTED = ("CommandAccepted", MetricUnit.Count)
COMMAND_DENIED = ("CommandDenied", MetricUnit.Count)
COMMAND_INVALID = ("CommandInvalid", MetricUnit.Count)
COMMAND_RATE_LIMITED = ("CommandRateLimited", MetricUnit.Count)
COMMAND_FAILED = ("CommandFailed", MetricUnit.Count)
ACK_LATENCY = ("AckLatency", MetricUnit.Milliseconds)
DISPATCH_LATENCY = ("DispatchLatency", MetricUnit.Milliseconds)
RUN_COMPLETED = ("RunCompleted", MetricUnit.Count)
ALERT_SENT = ("AlertSent", MetricUnit.Count)
ALERT_SUPPRESSED = ("AlertSuppressed", MetricUnit.Count)
RUN_FAILED = ("RunFailed", MetricUnit.Count)


@dataclass(frozen=True)
class Observation:
    command: str
    name: str
    unit: str
    value: float


class MetricsSink(Protocol):
    def emit(self, command: str, values: list[tuple[tuple[str, MetricUnit], float]]) -> None:
        """Record values for one command (one EMF document in Lambda)."""


class EmfMetrics:
    """One EMF document per call, dimensioned by command: flushed at once, so a batch of jobs
    for different commands never mixes dimensions."""

    def __init__(self) -> None:
        self._metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
        self._lock = threading.Lock()

    def emit(self, command: str, values: list[tuple[tuple[str, MetricUnit], float]]) -> None:
        with self._lock:  # Powertools keeps one shared metric set per process
            self._metrics.add_dimension(name="command", value=command)
            for (name, unit), value in values:
                self._metrics.add_metric(name=name, unit=unit, value=value)
            self._metrics.flush_metrics()


class MemoryMetrics:
    """Locally (serve, demo, tests): kept in memory, newest 1,000, with a count of what was dropped,
    because the local server's stdout carries only our JSON log lines."""

    def __init__(self, limit: int = 1000) -> None:
        self._lock = threading.Lock()
        self._observations: deque[Observation] = deque(maxlen=limit)
        self.dropped = 0

    def emit(self, command: str, values: list[tuple[tuple[str, MetricUnit], float]]) -> None:
        with self._lock:
            for (name, unit), value in values:
                if len(self._observations) == self._observations.maxlen:
                    self.dropped += 1
                self._observations.append(Observation(command, name, unit.value, value))

    @property
    def observations(self) -> list[Observation]:
        with self._lock:
            return list(self._observations)


def command_dimension(command: str, known: Collection[str]) -> str:
    return command if command in known else OTHER_COMMAND


def emit_cold_start(function: str) -> None:
    """One ColdStart count for a Lambda instance, emitted while it initialises (not per request)."""
    with single_metric(
        name="ColdStart", unit=MetricUnit.Count, value=1, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
    ) as metric:
        metric.add_dimension(name="function", value=function)
