"""Why a run failed: the failed jobs and steps, GitHub's annotations and a redacted window of the log."""
