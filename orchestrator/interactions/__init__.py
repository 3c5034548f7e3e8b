"""Discord's interactions endpoint: verify, validate, authorize, enqueue, answer within 3 seconds."""
