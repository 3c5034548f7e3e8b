"""Alerts to the operators' channel: one clear message per real problem, never a storm."""
