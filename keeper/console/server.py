"""The console served from a thread of this process (``make demo``, the browser tests); ``keeper console``
serves it in the foreground instead."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 15.0


class ConsoleStartError(RuntimeError):
    """The server thread did not start listening in time (``port`` taken, or the app failed to load)."""

    def __init__(self, port: int) -> None:
        super().__init__(f"the console did not start on {HOST}:{port} within {START_TIMEOUT_SECONDS:.0f}s")
        self.port = port


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class ConsoleThread:
    """uvicorn in a daemon thread on ``HOST:port``; ``stop`` ends it and waits for the thread."""

    def __init__(self, app: Starlette, port: int) -> None:
        self.port = port
        config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="console", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> ConsoleThread:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConsoleStartError(self.port)
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
