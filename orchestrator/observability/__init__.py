"""What operators see: structured logs, trace ids."""
