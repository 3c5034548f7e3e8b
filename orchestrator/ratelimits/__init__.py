"""Per-user rate limits: token buckets kept in the state store, atomic across instances."""
