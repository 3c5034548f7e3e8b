"""A stand-in for Discord's gateway (v10, JSON text frames) on loopback, as discord.py 2.7 speaks to it.

One websocket server in a daemon thread with its own event loop. It says HELLO, ACKs heartbeats,
checks IDENTIFY (token, privileged intents) and answers READY, resumes known sessions by
replaying what the client missed, and lets a test push DISPATCH events, ask for a RECONNECT,
drop the socket or invalidate the session. Compression is never used: discord.py asks for
`compress=zlib-stream` (or zstd) in the query but reads text frames as they are.

    server.py      FakeGateway: constructor, thread and event loop, websocket server, test controls
    protocol.py    heartbeats, IDENTIFY and READY, RESUME and replays, dispatches, closes
    vocabulary.py  opcodes, close codes, intents, frames; a session and a connection
"""

from orchestrator_dev.standins.fake_gateway.server import FakeGateway
from orchestrator_dev.standins.fake_gateway.vocabulary import PRIVILEGED_INTENTS

__all__ = ["PRIVILEGED_INTENTS", "FakeGateway"]
