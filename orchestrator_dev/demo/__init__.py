"""`python -m orchestrator demo [--gateway]`: the whole flow on this machine against the stand-ins."""
