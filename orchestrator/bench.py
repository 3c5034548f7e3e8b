"""`python -m orchestrator.bench`: the benchmark's entry point, the command the developers' guide names.

The benchmark itself is development code and lives beside this package, in orchestrator_dev.bench
(benchmark.py has the figures it prints). This one module stays here so that the command keeps its
name; the Lambda artifact leaves it out (Makefile), and nothing in the package imports it.
"""

from orchestrator_dev.bench.benchmark import main

if __name__ == "__main__":
    raise SystemExit(main())
