"""Following a dispatched run to its end: webhooks, polls, and the live Discord message."""
