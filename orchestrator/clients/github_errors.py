"""What can go wrong talking to GitHub, as the client reports it: typed, and never holding the
token or a URL with a secret in it."""

from __future__ import annotations


class GitHubError(Exception):
    """Base for GitHub failures; messages never contain the token or URLs with secrets."""


class GitHubRejected(GitHubError):
    """GitHub answered 4xx: nothing was started."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"GitHub answered {status}: {message}")
        self.status = status
        self.message = message


class GitHubRateLimited(GitHubError):
    """Over GitHub's rate limit for longer than we wait: nothing was started."""

    def __init__(self, retry_after_seconds: float | None) -> None:
        super().__init__("GitHub API rate limit reached")
        self.retry_after_seconds = retry_after_seconds


class GitHubUnreachable(GitHubError):
    """The request never reached GitHub (connection failed): nothing was started."""


class GitHubCircuitOpen(GitHubUnreachable):
    """The breaker is open after repeated failures: the request was not sent."""

    def __init__(self, retry_in: float) -> None:
        super().__init__("circuit open")
        self.retry_in = retry_in


class GitHubOutcomeUnknown(GitHubError):
    """The request may have reached GitHub but no usable answer came back (timeout, 5xx)."""


class AmbiguousRun(GitHubError):
    """Several runs carry the trace id: which one is ours cannot be told, so none is taken."""


class ReturnRunDetailsUnsupported(GitHubError):
    """GitHub Enterprise Server 3.20 and older reject `return_run_details` with 400."""
