"""The simulated exchanges' HTTP server: OKX v5 (``keeper.sim.okx``), Binance USD-M (``keeper.sim.binance``)
and Bybit v5 (``keeper.sim.bybit``) paths on one local port, with fault injection.

Authentication, timestamp windows, envelopes, error codes and rate limits follow the exchanges' wire
formats (see docs/keeper-verification.md). Signatures are checked with an implementation of its own, not
the keeper's, so a shared mistake cannot hide.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from keeper.sim.binance import BinanceBans, handle_binance
from keeper.sim.bybit import handle_bybit, rate_limited_body
from keeper.sim.faults import Fault, FaultConfig, FaultInjector
from keeper.sim.okx import handle_okx
from keeper.sim.scenarios import ScenarioFile
from keeper.sim.wire import ExchangeState, Reply, SimLimits

__all__ = ["BinanceBans", "ExchangeState", "Reply", "SimExchange", "SimLimits"]
log = logging.getLogger(__name__)

TIME_PATHS = frozenset({"/api/v5/public/time", "/fapi/v1/time", "/v5/market/time"})


class _Handler(BaseHTTPRequestHandler):
    server: SimHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each response waits for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sim %s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        sim = self.server.sim
        # A listener that stands for a host of its own (``SimExchange.add_client_ip``) names its client.
        client_ip = self.server.client_ip or self.client_address[0]
        binance = self.path.startswith("/fapi/")
        if binance:
            refused = sim.bans.admit(client_ip, sim.state.now_ms())
            if refused is not None:
                self._send(refused, _json_bytes(refused.body))
                return
        spared = sim.faults.config.spare_time_endpoints and urlsplit(self.path).path in TIME_PATHS
        fault, corruption = (None, None) if spared else sim.faults.draw()
        config = sim.faults.config
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        if fault is Fault.TIMEOUT:
            time.sleep(config.timeout_seconds)
        if fault is Fault.ERROR_5XX:
            self._send(
                Reply(503, None), b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
            )
            return
        if fault is Fault.RATE_LIMIT:
            reply, body = self._rate_limited(config)
        else:
            try:
                reply = sim.route(self.path, self.headers, client_ip)
            except Exception:  # a scenario-data bug must show as a 500, like a real exchange's internal error
                log.exception("simulator failed on %s", self.path)
                reply = Reply(
                    500, {"code": -1000, "msg": "An unknown error occurred while processing the request."}
                )
            body = _json_bytes(reply.body)
        if binance and reply.status == 429:
            if "Retry-After" in reply.headers and sim.faults.omit_retry_after():
                reply = Reply(
                    reply.status, reply.body, {k: v for k, v in reply.headers.items() if k != "Retry-After"}
                )
            sim.bans.observe(client_ip, reply, sim.state.now_ms())
        if corruption is Fault.TRUNCATED:
            body = body[: max(1, len(body) // 2)]
        elif corruption is Fault.MALFORMED:
            body = b"<html><body>upstream returned garbage</body></html>"
        self._send(reply, body)

    def _rate_limited(self, config: FaultConfig) -> tuple[Reply, bytes]:
        if self.path.startswith("/v5/"):
            # Bybit answers its API rate limit with HTTP 200 and retCode 10006 ("Too many visits!").
            now = int(self.server.sim.state.now_ms())
            limit = str(self.server.sim.state.limits.bybit_per_uid_per_s)
            headers = {
                "X-Bapi-Limit-Status": "0",
                "X-Bapi-Limit": limit,
                "X-Bapi-Limit-Reset-Timestamp": str(now + 1000),
            }
            return Reply(200, None, headers), rate_limited_body(self.server.sim.state)
        if self.path.startswith("/api/v5/"):
            reply = Reply(429, None)
            body = b'{"msg":"Too Many Requests","code":"50011"}'
        else:
            reply = Reply(429, None, {"X-MBX-USED-WEIGHT-1M": "2400"})
            body = b'{"code":-1003,"msg":"Too many requests; current limit is 2400 weight per 1 MINUTE."}'
        if config.retry_after_seconds is not None:
            reply.headers["Retry-After"] = str(config.retry_after_seconds)
        return reply, body

    def _send(self, reply: Reply, body: bytes) -> None:
        stamp = self.headers.get("OK-ACCESS-TIMESTAMP") or self.headers.get("X-BAPI-TIMESTAMP") or ""
        self.server.sim.state.record(urlsplit(self.path).path, reply.status, self.path, stamp)
        self.send_response(reply.status)
        content_type = "application/json" if body.startswith((b"{", b"[")) else "text/html"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _json_bytes(body: Any) -> bytes:
    """The body as sent: JSON, or bytes as they are (Bybit's 403 "access too frequent" is not JSON)."""
    if isinstance(body, bytes):
        return body
    return json.dumps(body, separators=(",", ":")).encode()


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    sim: SimExchange
    client_ip: str | None = None
    """The source address every request on this listener counts as (None: the connection's own)."""

    def handle_error(self, request: object, client_address: object) -> None:
        # A client killed mid-request (the keeper restart tests) is expected; the default prints a traceback.
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class SimExchange:
    """Serves a scenario file on 127.0.0.1; ``port=0`` picks a free port."""

    def __init__(
        self,
        scenarios: ScenarioFile,
        port: int = 0,
        faults: FaultConfig | None = None,
        limits: SimLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._host_clock = clock
        self.faults = FaultInjector(faults or FaultConfig())
        self.state = ExchangeState(scenarios, limits or SimLimits(), self._server_clock)
        self.bans = BinanceBans(self.state.limits)
        self.httpd = SimHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.sim = self
        self._thread: threading.Thread | None = None
        self._extra: list[tuple[SimHTTPServer, threading.Thread]] = []

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_client_ip(self, client_ip: str) -> str:
        """Another listener on a free port of 127.0.0.1, serving the same exchange, whose every request counts
        as coming from ``client_ip``: its URL. On one host every client connects from 127.0.0.1, so the
        per-IP limits (Binance's weight, OKX's instruments, Bybit's 600 / 5 s, bans, IP whitelists) would
        pool all of them; a client given its own listener has its own budget, as a host with its own
        address would. Nothing the client sends says who it is: a real exchange sees only the address."""
        httpd = SimHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.sim = self
        httpd.client_ip = client_ip
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sim-{client_ip}", daemon=True
        )
        thread.start()
        self._extra.append((httpd, thread))
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    def route(self, raw_path: str, headers: Any, client_ip: str) -> Reply:
        if raw_path.startswith("/api/v5/"):
            return handle_okx(self.state, raw_path, headers)
        if raw_path.startswith("/fapi/"):
            return handle_binance(self.state, raw_path, headers, client_ip)
        if raw_path.startswith("/v5/"):
            return handle_bybit(self.state, raw_path, headers, client_ip)
        return Reply(404, {"code": 404, "msg": "Not Found"})

    def _server_clock(self) -> float:
        # ``FaultConfig.clock_skew_ms`` moves the exchange's clock (signature windows, time endpoints, data).
        return self._host_clock() + self.faults.config.clock_skew_ms / 1000

    def set_faults(self, faults: FaultConfig) -> None:
        self.faults.configure(faults)

    def reset_limits(self, limits: SimLimits | None = None) -> None:
        """Fresh rate-limit windows, weight counters and bans (optionally with other limits)."""
        scenarios, clock = self.state.scenarios, self.state.clock
        self.state = ExchangeState(scenarios, limits or self.state.limits, clock)
        self.bans = BinanceBans(self.state.limits)

    def start(self) -> SimExchange:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sim-exchange", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        for httpd, thread in self._extra:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
