"""The state store: job records and idempotency keys, in memory, SQLite or DynamoDB."""
