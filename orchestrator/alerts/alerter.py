"""Raise an alert: deduplicated, rate limited, posted with the bot token, and never a failure of
its own: whatever goes wrong here is logged, and the user's command goes on as it would have."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from orchestrator.alerts.model import Alert
from orchestrator.alerts.ops_post import alert_message, logs_insights_url
from orchestrator.clients.discord_api import DiscordClient, DiscordError
from orchestrator.observability import metrics
from orchestrator.observability.logging import get_logger
from orchestrator.state.alerts import AlertStateStore, Claim

DEFAULT_WINDOW_SECONDS = 300
DEFAULT_PER_MINUTE = 10
THROTTLED = Alert(
    "warning",
    "alerts",
    "Alerts throttled",
    "More alerts than the channel's rate limit allows: some were not posted. Check the logs for `alert` lines.",
)


class Alerter:
    def __init__(
        self,
        store: AlertStateStore,
        discord: DiscordClient,
        channel_id: str | None,
        metrics_sink: metrics.MetricsSink,
        *,
        enabled: bool,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        per_minute: int = DEFAULT_PER_MINUTE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._discord = discord
        self._channel_id = channel_id
        self._metrics = metrics_sink
        self._enabled = enabled
        self._window = window_seconds
        self._per_minute = per_minute
        self._clock = clock
        self._warn_once = threading.Lock()
        self._warned = False

    def raise_alert(self, alert: Alert) -> bool:
        """True when the alert was posted. Never raises."""
        try:
            return self._raise(alert)
        except Exception as exc:  # noqa: BLE001 - the alert path must not fail the command
            get_logger().error("alert path failed", extra={"error": type(exc).__name__, "alert": alert.title})
            return False

    def _raise(self, alert: Alert) -> bool:
        log = get_logger()
        if not self._enabled:
            return False
        if not self._channel_id or not self._discord.can_post_in_channels:
            with self._warn_once:
                warn, self._warned = not self._warned, True
            if warn:
                log.warning("alerts are on but ALERT_CHANNEL_ID or DISCORD_BOT_TOKEN is missing: alerts skipped")
            return False
        now = self._clock()
        fingerprint = alert.fingerprint()
        claim = self._store.claim(fingerprint, now=now, window=self._window)
        if not claim.won:
            log.info(
                "alert suppressed",
                extra={"alert": alert.title, "fingerprint": fingerprint, "repeats": claim.suppressed},
            )
            self._metrics.emit(metrics.OTHER_COMMAND, [(metrics.ALERT_SUPPRESSED, 1.0)])
            return False
        if not self._store.take_slot(int(now // 60), self._per_minute):
            log.warning("alert throttled", extra={"alert": alert.title, "fingerprint": fingerprint})
            self._store.release(fingerprint, _with_this_one(claim, now))  # counted, posted when the rate allows
            notice = self._store.claim(THROTTLED.fingerprint(), now=now, window=self._window)
            if notice.won:
                self._post(THROTTLED, suppressed=0, since=None, fingerprint=THROTTLED.fingerprint(), claim=notice)
            return False
        return self._post(alert, suppressed=claim.suppressed, since=claim.since, fingerprint=fingerprint, claim=claim)

    def _post(self, alert: Alert, *, suppressed: int, since: float | None, fingerprint: str, claim: Claim) -> bool:
        insights = logs_insights_url(
            os.environ.get("AWS_REGION"), os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME"), alert.trace_id
        )
        message = alert_message(alert, suppressed=suppressed, since=since, insights=insights)
        assert self._channel_id is not None
        try:
            self._discord.post_in_channel(self._channel_id, message)
        except DiscordError as exc:
            # A failed post must not burn the window: the next occurrence tries again, and counts this one.
            self._store.release(fingerprint, _with_this_one(claim, self._clock()))
            get_logger().error("alert not posted", extra={"error": type(exc).__name__, "alert": alert.title})
            return False
        get_logger().info(
            "alert sent", extra={"alert": alert.title, "severity": alert.severity, "fingerprint": fingerprint}
        )
        self._metrics.emit(metrics.OTHER_COMMAND, [(metrics.ALERT_SENT, 1.0)])
        return True


def _with_this_one(claim: Claim, now: float) -> Claim:
    """A won claim given back: the repeats it carried, plus the occurrence that was not posted."""
    return Claim(True, claim.suppressed + 1, claim.since if claim.since is not None else now)
