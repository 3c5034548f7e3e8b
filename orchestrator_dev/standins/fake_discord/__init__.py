"""A stand-in for the parts of Discord's v10 HTTP API that answer interactions and post to channels.

server.py    FakeDiscord: constructor and route table, interaction webhooks and callbacks, channel
             messages, application commands, rate-limit headers, test controls
messages.py  what Discord refuses in a message (its limits), how it echoes one and merges an edit
identity.py  /users/@me and /applications/@me
"""

from orchestrator_dev.standins.fake_discord.messages import LOADING, form_errors
from orchestrator_dev.standins.fake_discord.server import FakeDiscord

__all__ = ["LOADING", "FakeDiscord", "form_errors"]
