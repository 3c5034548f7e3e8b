"""`python -m orchestrator.bench`: the speed and memory goals, measured beside their baselines."""
