"""An Authorization header from a token, or from a callable asked on every request."""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx


class HeaderAuth(httpx.Auth):
    def __init__(self, scheme: str, token: str | Callable[[], str]) -> None:
        self._scheme = scheme
        self._token = token

    def value(self) -> str:
        token = self._token() if callable(self._token) else self._token
        return f"{self._scheme} {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.value()
        yield request

    def __repr__(self) -> str:
        return f"HeaderAuth({self._scheme})"  # never the token
