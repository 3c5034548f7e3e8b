"""Turning a job into exactly one GitHub workflow run, and saying truthfully what happened."""
