"""The gateway's vocabulary as the stand-in speaks it: opcodes, close codes, intents, the frames it
sends, and a session (its sequence of dispatches) and a connection (a websocket, maybe in a session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Opcodes
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 7, 9, 10, 11

# Client opcodes that only need an authenticated connection (presence, voice state, member requests, ...).
OTHER_CLIENT_OPS = frozenset({3, 4, 8, 31})

# Intents Discord gives only to bots that enabled them: members, presences, message content.
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)

# Close codes
UNKNOWN_ERROR, UNKNOWN_OPCODE, DECODE_ERROR, NOT_AUTHENTICATED = 4000, 4001, 4002, 4003
AUTHENTICATION_FAILED, ALREADY_AUTHENTICATED, INVALID_INTENTS, DISALLOWED_INTENTS = 4004, 4005, 4013, 4014

DEFAULT_HEARTBEAT_INTERVAL_MS = 41250


@dataclass
class Session:
    id: str
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, READY first, for RESUME replays

    def next_dispatch(self, event: str, data: Any) -> dict[str, Any]:
        self.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.log.append(payload)
        return payload


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    request: web.Request
    session: Session | None = None  # set once IDENTIFY or RESUME succeeded: dispatches go here


def frame(op: int, data: Any = None) -> dict[str, Any]:
    """A payload that is not a dispatch: Discord sends `s` and `t` as null."""
    return {"op": op, "d": data, "s": None, "t": None}
