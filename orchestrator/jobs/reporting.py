"""What every job leaves behind besides its own work: the trace (redacted, best effort), alerts
for operators, and metrics by command."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from aws_lambda_powertools.metrics import MetricUnit

from orchestrator.alerts.alerter import Alerter
from orchestrator.alerts.model import Alert
from orchestrator.observability import metrics
from orchestrator.observability.logging import get_logger
from orchestrator.observability.redaction import active_redactor
from orchestrator.state.traces import TraceStore
from orchestrator.traces.model import Trace


class Reporting:
    def __init__(
        self,
        traces: TraceStore,
        metrics_sink: metrics.MetricsSink,
        command_names: Collection[str],
        alerter: Alerter | None = None,
    ) -> None:
        self._traces = traces
        self._metrics = metrics_sink
        self._command_names = frozenset(command_names)
        self._alerter = alerter

    def save_trace(self, trace: Trace) -> None:
        # Traces help explain failures; failing to store one must never fail the command itself.
        try:
            self._traces.save(Trace.from_dict(active_redactor().value(trace.to_dict())))
        except Exception as exc:  # noqa: BLE001
            get_logger().warning("trace not stored", extra={"error": type(exc).__name__})

    def alert(self, alert: Alert) -> None:
        if self._alerter is not None:
            self._alerter.raise_alert(alert)

    def emit(self, command: str, values: Sequence[tuple[tuple[str, MetricUnit], float]]) -> None:
        """Metrics under the command's name (an unknown name counts as "other": bounded dimensions)."""
        self._metrics.emit(metrics.command_dimension(command, self._command_names), list(values))
