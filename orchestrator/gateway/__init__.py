"""`orchestrator gateway`: the bot over Discord's gateway (a websocket it opens itself) instead of
a public HTTPS endpoint; discord.py keeps the connection. Imported only by that command."""
