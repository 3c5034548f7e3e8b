"""Thin edges over the core: Lambda handlers and the local HTTP server."""
