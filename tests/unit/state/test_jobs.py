"""Job records on every backend: round trips, overwrites, forward compatibility, expiry, restarts."""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
import time
from dataclasses import asdict, replace
from pathlib import Path

import boto3

from orchestrator.commands.invocation import INVOCATION_FIELDS, Invocation
from orchestrator.state.dynamodb import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, DynamoJobStore
from orchestrator.state.jobs import JOB_RETENTION_SECONDS, JobRecord
from orchestrator.state.memory import MemoryJobStore
from orchestrator.state.store import StateStore, open_state_store
from orchestrator_dev.standins.signing import snowflake
from tests.fixtures.state import TABLE, Backend, close_state_store, state_table_properties


def make_record(**changes: object) -> JobRecord:
    now = time.time()
    record = JobRecord(
        invocation=Invocation(
            options={},
            interaction_id=snowflake(),
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
            command="diagnose",
            user_id=snowflake(),
            user_name="tester",
            guild_id=snowflake(),
            channel_id=snowflake(),
        ),
        status="dispatching",
        created_at=now,
        updated_at=now,
    )
    who = {name: value for name, value in changes.items() if name in INVOCATION_FIELDS}
    rest = {name: value for name, value in changes.items() if name not in INVOCATION_FIELDS}
    return replace(record, invocation=replace(record.invocation, **who), **rest)  # type: ignore[arg-type]


def flat(record: JobRecord) -> dict[str, object]:
    """A record as its stored JSON has it (the invocation's fields beside the rest), token and all."""
    own = {name: value for name, value in asdict(record).items() if name != "invocation"}
    return {**record.invocation.to_dict(), **own}


def write_raw_json(backend: Backend, interaction_id: str, text: str, tmp_path: Path) -> None:
    """Store a record's JSON as a newer version of the code might have written it."""
    if backend.name == "memory":
        assert isinstance(backend.store.jobs, MemoryJobStore)
        backend.store.jobs._records.set(interaction_id, text)
    elif backend.name == "sqlite":
        with sqlite3.connect(tmp_path / "state.db") as conn:
            conn.execute(
                "INSERT OR REPLACE INTO jobs (interaction_id, body, expires_at) VALUES (?, ?, ?)",
                (interaction_id, text, int(time.time()) + 3600),
            )
        conn.close()
    else:
        boto3.client("dynamodb").put_item(
            TableName=TABLE,
            Item={
                PARTITION_KEY: {"S": f"job#{interaction_id}"},
                SORT_KEY: {"S": "job"},
                "data": {"S": text},
                TTL_ATTRIBUTE: {"N": str(int(time.time()) + 3600)},
            },
        )


def test_put_then_get_round_trips_every_field(store: StateStore) -> None:
    record = make_record(
        status="dispatched",
        dispatch_attempted_at=time.time(),
        run_id=16_000_000_001,
        html_url="https://github.com/acme/ops/actions/runs/16000000001",
        detail="Ünïcödé détail ✓ with \"quotes\" and 'apostrophes'",
        guild_id=None,
    )

    store.jobs.put(record)

    assert store.jobs.get(record.invocation.interaction_id) == record


def test_put_overwrites_the_previous_version(store: StateStore) -> None:
    record = make_record()
    store.jobs.put(record)
    later = replace(record, status="rejected", detail="GitHub refused", updated_at=record.updated_at + 5)

    store.jobs.put(later)

    assert store.jobs.get(record.invocation.interaction_id) == later


def test_records_are_kept_apart_by_interaction_id(store: StateStore) -> None:
    first, second = make_record(command="diagnose"), make_record(command="deploy")
    store.jobs.put(first)
    store.jobs.put(second)

    assert store.jobs.get(first.invocation.interaction_id) == first
    assert store.jobs.get(second.invocation.interaction_id) == second


def test_unknown_id_is_none(store: StateStore) -> None:
    store.jobs.put(make_record())

    assert store.jobs.get(snowflake()) is None


def test_unknown_fields_in_stored_json_are_ignored(backend: Backend, tmp_path: Path) -> None:
    """A record written by a newer version (extra fields) still reads: rolling back a deploy must work."""
    record = make_record(status="dispatched", run_id=7)
    newer = {**flat(record), "added_in_a_later_version": "x", "nested": {"a": [1, 2]}}
    write_raw_json(backend, record.invocation.interaction_id, json.dumps(newer), tmp_path)

    assert backend.store.jobs.get(record.invocation.interaction_id) == record


def test_missing_optional_fields_take_their_defaults(backend: Backend, tmp_path: Path) -> None:
    """A record written by an older version (before the optional fields existed) still reads."""
    record = make_record()
    older = {k: v for k, v in flat(record).items() if k not in {"dispatch_attempted_at", "run_id", "html_url"}}
    write_raw_json(backend, record.invocation.interaction_id, json.dumps(older), tmp_path)

    read = backend.store.jobs.get(record.invocation.interaction_id)

    assert read == record
    assert read is not None
    assert (read.dispatch_attempted_at, read.run_id, read.html_url) == (None, None, None)


def test_json_form_is_compact_and_complete() -> None:
    record = make_record(run_id=1)

    text = record.to_json()

    assert " " not in text.replace("tester", "")
    assert JobRecord.from_json(text) == record


# -- SQLite: a file that survives restarts -------------------------------------------------------


def test_sqlite_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    first = open_state_store(url)
    record = make_record(status="dispatched", run_id=42)
    first.jobs.put(record)
    close_state_store(first)

    second = open_state_store(url)
    try:
        assert second.jobs.get(record.invocation.interaction_id) == record
    finally:
        close_state_store(second)


def test_sqlite_sees_writes_of_another_open_store_on_the_same_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    writer, reader = open_state_store(url), open_state_store(url)
    try:
        record = make_record()
        writer.jobs.put(record)
        assert reader.jobs.get(record.invocation.interaction_id) == record
    finally:
        close_state_store(writer)
        close_state_store(reader)


def test_sqlite_row_past_its_retention_is_treated_as_absent(tmp_path: Path) -> None:
    store = open_state_store(f"sqlite:///{tmp_path}/state.db")
    try:
        record = make_record()
        store.jobs.put(record)
        with sqlite3.connect(tmp_path / "state.db") as conn:
            conn.execute(
                "UPDATE jobs SET expires_at = ? WHERE interaction_id = ?",
                (int(time.time()) - 1, record.invocation.interaction_id),
            )
        conn.close()

        assert store.jobs.get(record.invocation.interaction_id) is None
    finally:
        close_state_store(store)


def test_sqlite_keeps_records_for_the_retention_period(tmp_path: Path) -> None:
    store = open_state_store(f"sqlite:///{tmp_path}/state.db")
    try:
        record = make_record()
        store.jobs.put(record)
    finally:
        close_state_store(store)
    with sqlite3.connect(tmp_path / "state.db") as conn:
        (expires_at,) = conn.execute("SELECT expires_at FROM jobs").fetchone()
    conn.close()

    assert abs(expires_at - (time.time() + JOB_RETENTION_SECONDS)) < 5


# -- DynamoDB: one table shared by every Lambda, TTL deletes lazily ------------------------------------


def test_dynamodb_table_in_template_matches_the_code() -> None:
    properties = state_table_properties()

    keys = {k["KeyType"]: k["AttributeName"] for k in properties["KeySchema"]}
    assert keys == {"HASH": PARTITION_KEY, "RANGE": SORT_KEY}
    assert {a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]} == {
        PARTITION_KEY: "S",
        SORT_KEY: "S",
    }
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


def test_dynamodb_store_built_directly_on_a_client(dynamodb_table: str) -> None:
    client = boto3.client("dynamodb")
    jobs = DynamoJobStore(client, dynamodb_table)
    record = make_record(status="dispatched", run_id=3)

    jobs.put(record)

    assert jobs.get(record.invocation.interaction_id) == record
    item = client.get_item(
        TableName=dynamodb_table,
        Key={PARTITION_KEY: {"S": f"job#{record.invocation.interaction_id}"}, SORT_KEY: {"S": "job"}},
    )["Item"]
    assert abs(int(item[TTL_ATTRIBUTE]["N"]) - (time.time() + JOB_RETENTION_SECONDS)) < 5


def test_dynamodb_item_past_its_expiration_is_treated_as_absent(dynamodb_table: str) -> None:
    """TTL deletes lazily (up to 48 h late): an item still there but expired must read as gone."""
    client = boto3.client("dynamodb")
    jobs = DynamoJobStore(client, dynamodb_table)
    record = make_record()
    client.put_item(
        TableName=dynamodb_table,
        Item={
            PARTITION_KEY: {"S": f"job#{record.invocation.interaction_id}"},
            SORT_KEY: {"S": "job"},
            "data": {"S": record.to_json()},
            TTL_ATTRIBUTE: {"N": str(int(time.time()) - 60)},
        },
    )

    assert jobs.get(record.invocation.interaction_id) is None


def test_dynamodb_job_items_are_namespaced_in_the_shared_table(dynamodb_table: str) -> None:
    """Jobs and idempotency keys share one table: job items live under their own `job#` keys."""
    store = open_state_store(f"dynamodb://{dynamodb_table}")
    record = make_record()
    store.jobs.put(record)

    items = boto3.client("dynamodb").scan(TableName=dynamodb_table)["Items"]

    assert [item[PARTITION_KEY]["S"] for item in items] == [f"job#{record.invocation.interaction_id}"]
    assert [item[SORT_KEY]["S"] for item in items] == ["job"]


def test_an_expired_interaction_token_is_neither_kept_nor_read_back(backend: Backend, tmp_path: Path) -> None:
    fresh = make_record(reply_token="aW50ZXJhY3Rpb246fresh-token", received_at=time.time())
    old = make_record(reply_token="aW50ZXJhY3Rpb246old-token", received_at=time.time() - 16 * 60)
    backend.store.jobs.put(fresh)
    backend.store.jobs.put(old)
    assert backend.store.jobs.get(fresh.invocation.interaction_id) == fresh
    read = backend.store.jobs.get(old.invocation.interaction_id)
    assert read is not None and read.reply_token is None
    # Written before it expired, read after: still never handed out.
    write_raw_json(backend, old.invocation.interaction_id, json.dumps(flat(old)), tmp_path)
    read = backend.store.jobs.get(old.invocation.interaction_id)
    assert read is not None and read.reply_token is None


def test_the_sqlite_file_is_private_and_sheds_expired_tokens(tmp_path: Path) -> None:
    path = tmp_path / "private" / "state.db"
    store = open_state_store(f"sqlite:///{path}")
    try:
        expired = make_record(reply_token="aW50ZXJhY3Rpb246stale-token", received_at=time.time() - 16 * 60)
        store.jobs.put(make_record(reply_token="aW50ZXJhY3Rpb246kept-token", received_at=time.time()))
        with sqlite3.connect(path) as conn:  # written while it still worked, as a run's last write would be
            body = json.dumps({**flat(expired), "received_at": time.time()})
            conn.execute(
                "INSERT INTO jobs VALUES (?, ?, ?)", (expired.invocation.interaction_id, body, int(time.time()) + 60)
            )
            conn.execute(
                "UPDATE jobs SET body = json_set(body, '$.received_at', ?) WHERE interaction_id = ?",
                (expired.received_at, expired.invocation.interaction_id),
            )
        conn.close()
        store.jobs._next_sweep = 0.0  # type: ignore[attr-defined]
        store.jobs.put(make_record())  # any write sweeps (at most once a minute)
    finally:
        close_state_store(store)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    with sqlite3.connect(path) as conn:
        [[body]] = conn.execute("SELECT body FROM jobs WHERE interaction_id = ?", (expired.invocation.interaction_id,))
    conn.close()
    assert json.loads(body)["reply_token"] is None


def everything_stored(backend: Backend, tmp_path: Path) -> str:
    """All that the backend holds, as text: the memory store's dicts, the SQLite file, the table."""
    if backend.name == "memory":
        assert isinstance(backend.store.jobs, MemoryJobStore)
        return repr(vars(backend.store.jobs._records))
    if backend.name == "sqlite":
        with sqlite3.connect(tmp_path / "state.db") as conn:
            rows = conn.execute("SELECT body FROM jobs").fetchall()
        conn.close()
        return repr(rows)
    return repr(boto3.client("dynamodb").scan(TableName=TABLE)["Items"])


def test_outside_text_is_stored_redacted(backend: Backend, tmp_path: Path) -> None:
    """What GitHub said and what users typed is kept 30 days: a pasted or echoed token is not."""
    token = "ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))
    record = make_record(
        options={"target": f"staging {token}", "count": 3},
        detail=f"GitHub answered 422: Unexpected inputs provided: ['{token}']",
    )
    backend.store.jobs.put(record)
    stored = everything_stored(backend, tmp_path)
    assert token not in stored and "[redacted:" in stored
    read = backend.store.jobs.get(record.invocation.interaction_id)
    assert read is not None and read.invocation.options["count"] == 3
    assert str(read.invocation.options["target"]).startswith("staging ")


def test_a_failed_runs_digest_and_attempts_round_trip(store: StateStore) -> None:
    digest = {
        "run_attempt": 2,
        "conclusion": "failure",
        "jobs": [{"job_id": 4, "name": "test", "step_number": 3, "step_name": "Run tests", "log": ["Error: boom"]}],
        "more_failed": 0,
        "note": None,
        "fingerprint": "0123456789abcdef",
    }
    record = make_record(
        status="dispatched",
        run_id=16_000_000_002,
        run_attempt=2,
        attempts=[{"attempt": 1, "conclusion": "failure"}],
        rerun_by="Alice",
        rerun_claimed=1,
        failure=digest,
        failure_log_public=True,
        conclusion="failure",
    )
    store.jobs.put(record)
    assert store.jobs.get(record.invocation.interaction_id) == record
