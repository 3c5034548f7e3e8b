"""The speed and memory goals measured beside their baselines (`python -m orchestrator.bench`, which runs
benchmark.py), the load test (load.py) and the fuzzers (fuzz.py, atheris_fuzz.py)."""
