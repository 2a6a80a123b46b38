"""A real HTTP server on 127.0.0.1 that records what a Nerve hub would receive."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class Received:
    at: float
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Hub:
    url: str
    requests: list[Received] = field(default_factory=list)

    def wait_for(self, test: Callable[[list[Received]], bool], timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = list(self.requests)
            if test(seen):
                return seen
            time.sleep(0.02)
        raise AssertionError(f"the hub did not get what was expected in {timeout} s; got {self.requests!r}")


@pytest.fixture
def hub() -> Iterator[Hub]:
    received: list[Received] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length).decode("utf-8"))
            received.append(Received(time.monotonic(), self.command, self.path, dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Hub(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()
