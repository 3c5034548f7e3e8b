"""Discord's HTTP API as the bot speaks it: its numbers and rules in one place."""
