"""Discord slash commands that dispatch GitHub Actions workflows."""

__version__ = "0.1.0"
