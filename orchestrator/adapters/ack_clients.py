"""How the ACK path's AWS clients are configured: within Discord's 3 seconds even when AWS hangs.

A command's ACK makes two calls in turn: the rate limit's write (DynamoDB), then the job's send
(SQS). Worst case, each waiting out its timeouts on every attempt, and botocore's one retry of the
send waiting its longest first (standard mode: below 1 s after a throttling answer, 50 ms after
any other failure):

    write: 1 attempt × (0.2 s to connect + 0.4 s without a byte)      = 0.6 s
    send:  2 attempts × (0.2 + 0.4) s + 1 s before the retry           = 2.2 s
                                                                 total = 2.8 s

Only an answer that asks for a longer wait (SQS's `x-amz-retry-after`, which botocore honours up
to 5 s more) goes past it. In-region calls take ~10 ms, so the timeouts only cut off what is lost
already. The write gets no retry: a failed rate limit lets the command through
(ratelimits/limiter.py), and a retry would spend the time the send needs. The send gets one: a job
not sent is a command not run.
"""

from __future__ import annotations

from botocore.config import Config

CONNECT_TIMEOUT_SECONDS = 0.2
READ_TIMEOUT_SECONDS = 0.4  # with no byte received
STATE_ATTEMPTS, QUEUE_ATTEMPTS = 1, 2
DISCORD_ACK_DEADLINE_SECONDS = 3.0


def ack_client_config(attempts: int) -> Config:
    """No client-side validation of the parameters: our code builds them and the service checks
    them anyway (it was a third of botocore's CPU per call). `total_max_attempts` counts the first
    attempt (botocore's `max_attempts` would count retries only)."""
    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"total_max_attempts": attempts, "mode": "standard"},
        parameter_validation=False,
    )


ACK_STATE_CONFIG = ack_client_config(STATE_ATTEMPTS)
ACK_QUEUE_CONFIG = ack_client_config(QUEUE_ATTEMPTS)


def worst_case_seconds(attempts: int) -> float:
    """The longest one call can take with every attempt timing out and each retry's wait at its
    longest (1 s, doubling), short of a wait the service asks for."""
    waits = sum(2.0 ** (retry - 1) for retry in range(1, attempts))
    return attempts * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS) + waits
