"""The GitHub Actions workflows the commands run: what their files declare, and how a command's
inputs drift from it."""
