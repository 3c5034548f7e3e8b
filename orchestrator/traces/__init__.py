"""Execution traces: what happened to each command, step by step, for /debug-last and operators."""
