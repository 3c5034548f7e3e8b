"""When an idempotency record may be claimed again: the rule DynamoDB's conditional put encodes.

Powertools' DynamoDB layer writes it as a condition expression; the SQLite and
memory layers share this one function so all three backends agree.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord


def may_overwrite(existing: DataRecord, *, now: float) -> bool:
    if existing.expiry_timestamp is not None and existing.expiry_timestamp < int(now):
        return True
    # An in-progress claim whose holder ran out of time (a Lambda killed mid-call) may be taken over.
    return (
        existing._status == STATUS_CONSTANTS["INPROGRESS"]
        and existing.in_progress_expiry_timestamp is not None
        and existing.in_progress_expiry_timestamp < int(now * 1000)
    )
