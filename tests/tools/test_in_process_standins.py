"""The stand-ins in-process (`transport()`): the same routes, log and faults as on a socket, and
what a client on a socket would see when a fault drops or delays the answer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from orchestrator_dev.standins.http_standin import Fault, Request, Response, StandinServer


class Echo(StandinServer):
    def __init__(self) -> None:
        super().__init__()
        self.applied: list[str] = []
        self.add_route("POST", r"/things/(?P<name>\w+)", self._post)

    def _post(self, request: Request, params: dict[str, str]) -> Response:
        self.applied.append(params["name"])
        return Response(201, {"name": params["name"], "sent": request.json, "page": request.query.get("page")})


@pytest.fixture
def echo() -> Iterator[Echo]:
    with Echo() as server:
        yield server


def clients(echo: Echo) -> list[httpx.Client]:
    """The same stand-in through a socket and in-process: every check below holds for both."""
    timeout = httpx.Timeout(1.0)
    return [
        httpx.Client(base_url=echo.url, timeout=timeout),
        httpx.Client(base_url="http://standin.test", transport=echo.transport(), timeout=timeout),
    ]


def test_the_routes_and_the_request_log_are_the_same_either_way(echo: Echo) -> None:
    for client in clients(echo):
        with client:
            response = client.post("/things/a?page=2", json={"x": 1})
            assert client.post("/nowhere").status_code == 404
        assert response.status_code == 201
        assert response.json() == {"name": "a", "sent": {"x": 1}, "page": "2"}
        assert response.headers["content-type"] == "application/json"
    logged = [(r.method, r.path, r.json) for r in echo.requests]
    assert logged == [("POST", "/things/a", {"x": 1}), ("POST", "/nowhere", None)] * 2


def test_a_dropped_connection_is_a_protocol_error_in_process_too(echo: Echo) -> None:
    for client in clients(echo):
        echo.inject(Fault(path="/things/", drop=True, then_apply=True))
        with client, pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post("/things/b")
    assert echo.applied == ["b", "b"]  # the work was done; only the answer was lost


def test_a_delay_past_the_read_timeout_times_out_in_process_too(echo: Echo) -> None:
    for client in clients(echo):
        echo.inject(Fault(path="/things/", delay=1.5, status=503, then_apply=True))
        with client, pytest.raises(httpx.ReadTimeout):
            client.post("/things/c")
    assert echo.applied == ["c", "c"]


def test_a_delay_within_the_timeout_answers_late(echo: Echo) -> None:
    for client in clients(echo):
        echo.inject(Fault(path="/things/", delay=0.05))
        with client:
            assert client.post("/things/d").status_code == 201
