"""State in one DynamoDB table (pk, sk; TTL on `expiration`), shared by every Lambda instance."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from orchestrator.state.jobs import JOB_RETENTION_SECONDS, JobRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expiration"  # also Powertools Idempotency's default expiry attribute


class DynamoJobStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def get(self, interaction_id: str) -> JobRecord | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={PARTITION_KEY: {"S": f"job#{interaction_id}"}, SORT_KEY: {"S": "job"}},
            ConsistentRead=True,
        ).get("Item")
        # TTL deletes lazily (up to two days late): an expired item is treated as gone.
        if not item or int(item[TTL_ATTRIBUTE]["N"]) < time.time():
            return None
        return JobRecord.from_json(item["data"]["S"])

    def put(self, record: JobRecord) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                PARTITION_KEY: {"S": f"job#{record.interaction_id}"},
                SORT_KEY: {"S": "job"},
                "data": {"S": record.to_json()},
                TTL_ATTRIBUTE: {"N": str(int(time.time()) + JOB_RETENTION_SECONDS)},
            },
        )


def dynamo_idempotency_layer(client: DynamoDBClient, table: str) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=table,
        key_attr=PARTITION_KEY,
        sort_key_attr=SORT_KEY,
        static_pk_value="idempotency",
        expiry_attr=TTL_ATTRIBUTE,
        boto3_client=client,
    )
