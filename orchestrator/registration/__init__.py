"""`orchestrator register`: put the command set on Discord (one bulk overwrite, global or per guild)."""
