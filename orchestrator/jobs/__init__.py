"""Jobs: what the interactions endpoint hands to the worker, and the worker itself."""
