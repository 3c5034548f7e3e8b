"""HTTP clients for the GitHub and Discord REST APIs (httpx; the worker's side, never the ACK's)."""
