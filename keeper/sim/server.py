"""The simulated exchange: OKX v5 and Binance USD-M paths on one local HTTP server.

Authentication, timestamp windows, envelopes, error codes and rate limits follow the exchanges' wire
formats (see docs/keeper-verification.md). Signatures are checked with an implementation of its own, not
the keeper's, so a shared mistake cannot hide.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from keeper.sim.faults import Fault, FaultConfig, FaultInjector
from keeper.sim.scenarios import OwnedRecord, ScenarioFile, SimAccount

log = logging.getLogger(__name__)

OKX_SKEW_MS = 30_000
OKX_NOT_FOUND_BODY = {
    "code": 404,
    "data": {},
    "detailMsg": "",
    "error_code": "404",
    "error_message": "Not Found",
    "msg": "Not Found",
}


@dataclass(frozen=True)
class SimLimits:
    """Published limits by default; tests lower them to provoke throttling quickly."""

    okx_per_2s: dict[str, int] = field(
        default_factory=lambda: {"trade/order": 60, "trade/fills": 60, "trade/fills-history": 10}
    )
    okx_window_ms: int = 2000
    binance_weight_per_minute: int = 2400


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class SlidingWindow:
    """Request counts per key over the last ``window_ms`` (OKX counts per user and endpoint)."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_ms: int, now_ms: float) -> bool:
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now_ms - window_ms:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now_ms)
            return True


class MinuteWeight:
    """Binance's request weight per IP and clock minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: dict[tuple[str, int], int] = {}

    def spend(self, ip: str, weight: int, now_ms: float) -> int:
        with self._lock:
            key = (ip, int(now_ms // 60_000))
            self._used[key] = self._used.get(key, 0) + weight
            return self._used[key]

    def used(self, ip: str, now_ms: float) -> int:
        with self._lock:
            return self._used.get((ip, int(now_ms // 60_000)), 0)


class ExchangeState:
    """Indexes of the scenario data plus the limit counters; shared by all handler threads."""

    def __init__(self, scenarios: ScenarioFile, limits: SimLimits, clock: Callable[[], float]) -> None:
        self.scenarios = scenarios
        self.limits = limits
        self.clock = clock
        self.okx_accounts = {a.api_key: a for a in scenarios.accounts if a.exchange == "okx"}
        self.binance_accounts = {a.api_key: a for a in scenarios.accounts if a.exchange == "binance"}
        self.okx_windows = SlidingWindow()
        self.binance_weight = MinuteWeight()
        self.request_log: list[tuple[str, int]] = []
        self._log_lock = threading.Lock()

    def now_ms(self) -> float:
        return self.clock() * 1000

    def record(self, path: str, status: int) -> None:
        with self._log_lock:
            self.request_log.append((path, status))


def _owned(records: list[OwnedRecord], owner: str) -> list[dict[str, Any]]:
    return [r.wire for r in records if r.owner == owner]


# --------------------------------------------------------------------------------------------- OKX


def _okx_error(status: int, code: str, msg: str, with_data: bool = False) -> Reply:
    body: dict[str, Any] = {"msg": msg, "code": code}
    if with_data:
        body["data"] = []
    return Reply(status, body)


def _okx_ok(data: list[dict[str, Any]]) -> Reply:
    return Reply(200, {"code": "0", "msg": "", "data": data})


def _parse_okx_timestamp(value: str) -> float | None:
    try:
        if not value.endswith("Z") or len(value) != 24:
            return None
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return None


def _okx_authenticate(state: ExchangeState, raw_path: str, headers: Any) -> SimAccount | Reply:
    key = headers.get("OK-ACCESS-KEY")
    sign = headers.get("OK-ACCESS-SIGN")
    stamp = headers.get("OK-ACCESS-TIMESTAMP")
    passphrase = headers.get("OK-ACCESS-PASSPHRASE")
    if not key:
        return _okx_error(401, "50103", 'Request header "OK-ACCESS-KEY" cannot be empty.')
    if not passphrase:
        return _okx_error(401, "50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.')
    if not sign:
        return _okx_error(401, "50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.')
    if not stamp:
        return _okx_error(401, "50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.')
    sent_ms = _parse_okx_timestamp(stamp)
    if sent_ms is None:
        return _okx_error(401, "50112", "Invalid OK-ACCESS-TIMESTAMP")
    if abs(state.now_ms() - sent_ms) > OKX_SKEW_MS:
        return _okx_error(401, "50102", "Timestamp request expired")
    account = state.okx_accounts.get(key)
    if account is None:
        return _okx_error(401, "50111", "Invalid OK-ACCESS-KEY")
    if account.passphrase is None or not hmac.compare_digest(passphrase, account.passphrase):
        return _okx_error(401, "50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.')
    if (headers.get("x-simulated-trading") == "1") != account.simulated:
        return _okx_error(401, "50101", "APIKey does not match current environment.")
    # The signature covers the request path and query exactly as sent: no re-encoding, no sorting.
    prehash = f"{stamp}GET{raw_path}".encode()
    expected = base64.b64encode(hmac.new(account.secret.encode(), prehash, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, sign):
        return _okx_error(401, "50113", "Invalid Sign")
    return account


def handle_okx(state: ExchangeState, raw_path: str, headers: Any) -> Reply:
    parts = urlsplit(raw_path)
    endpoint = parts.path.removeprefix("/api/v5/")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if endpoint == "public/time":
        return _okx_ok([{"ts": str(int(state.now_ms()))}])
    if endpoint not in ("trade/order", "trade/fills", "trade/fills-history"):
        return Reply(404, OKX_NOT_FOUND_BODY)
    auth = _okx_authenticate(state, raw_path, headers)
    if isinstance(auth, Reply):
        return auth
    account = auth
    limit = state.limits.okx_per_2s[endpoint]
    scope = f"{account.api_key}:{endpoint}" + (
        f":{params.get('instId', '')}" if endpoint == "trade/order" else ""
    )
    if not state.okx_windows.hit(scope, limit, state.limits.okx_window_ms, state.now_ms()):
        return _okx_error(429, "50011", "Too Many Requests")
    book = state.scenarios.okx
    if endpoint == "trade/order":
        inst_id = params.get("instId", "")
        if not inst_id:
            return _okx_error(400, "50014", "Parameter instId can not be empty.", with_data=True)
        ord_id, cl_ord_id = params.get("ordId", ""), params.get("clOrdId", "")
        if not ord_id and not cl_ord_id:
            return _okx_error(400, "51000", "Parameter ordId error", with_data=True)
        for order in _owned(book.orders, account.api_key):
            matches_id = order["ordId"] == ord_id if ord_id else order.get("clOrdId") == cl_ord_id
            if matches_id and order["instId"] == inst_id:
                return _okx_ok([order])
        return _okx_error(200, "51603", "Order does not exist", with_data=True)
    if endpoint == "trade/fills-history" and not params.get("instType"):
        return _okx_error(400, "50014", "Parameter instType can not be empty.", with_data=True)
    fills = [
        f
        for f in _owned(book.fills, account.api_key)
        if all(f.get(name) == params[name] for name in ("instType", "instId", "ordId") if params.get(name))
    ]
    fills.sort(key=lambda f: int(f["ts"]), reverse=True)
    return _okx_ok(fills[: min(int(params.get("limit") or 100), 100)])


# ----------------------------------------------------------------------------------------- Binance

BINANCE_WEIGHTS = {"order": 1, "userTrades": 5, "income": 30, "time": 1}


def _bn_error(status: int, code: int, msg: str) -> Reply:
    return Reply(status, {"code": code, "msg": msg})


def _binance_authenticate(
    state: ExchangeState, query: str, headers: Any
) -> tuple[SimAccount, dict[str, str]] | Reply:
    key = headers.get("X-MBX-APIKEY")
    if not key:
        return _bn_error(401, -2014, "API-key format invalid.")
    account = state.binance_accounts.get(key)
    if account is None:
        return _bn_error(401, -2015, "Invalid API-key, IP, or permissions for action.")
    head, marker, signature = query.rpartition("&signature=")
    if not marker:
        head, marker, signature = query.rpartition("signature=")
        if not marker or head:
            return _bn_error(
                400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
            )
    params = dict(parse_qsl(head, keep_blank_values=True))
    if "timestamp" not in params or not params["timestamp"].isdigit():
        return _bn_error(
            400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
        )
    recv_window = int(params.get("recvWindow", "5000")) if params.get("recvWindow", "5000").isdigit() else -1
    if not 0 < recv_window <= 60_000:
        return _bn_error(400, -1131, "recvWindow must be less than 60000")
    sent, now = int(params["timestamp"]), state.now_ms()
    if not (sent < now + 1000 and now - sent <= recv_window):
        return _bn_error(400, -1021, "Timestamp for this request is outside of the recvWindow.")
    expected = hmac.new(account.secret.encode(), head.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        return _bn_error(400, -1022, "Signature for this request is not valid.")
    return account, params


def _in_window(row: dict[str, Any], params: dict[str, str], time_field: str, default_days: int) -> bool:
    moment = int(row[time_field])
    end = int(params["endTime"]) if params.get("endTime") else None
    start = int(params["startTime"]) if params.get("startTime") else None
    if start is None and end is None:
        return True
    if start is None and end is not None:
        start = end - default_days * 86_400_000
    return (start is None or moment >= start) and (end is None or moment <= end)


def handle_binance(state: ExchangeState, raw_path: str, headers: Any, client_ip: str) -> Reply:
    parts = urlsplit(raw_path)
    endpoint = parts.path.removeprefix("/fapi/v1/")
    known = ("order", "forceOrders", "userTrades", "income", "time")
    if not parts.path.startswith("/fapi/v1/") or endpoint not in known:
        return Reply(404, {"code": -5000, "msg": "Path not found"})
    query_params = dict(parse_qsl(parts.query, keep_blank_values=True))
    weight = BINANCE_WEIGHTS.get(endpoint) or (20 if query_params.get("symbol") else 50)
    now = state.now_ms()
    used = state.binance_weight.spend(client_ip, weight, now)
    weight_header = {"X-MBX-USED-WEIGHT-1M": str(used)}
    if used > state.limits.binance_weight_per_minute:
        retry_after = str(max(1, int(60 - (now / 1000) % 60)))
        limit = state.limits.binance_weight_per_minute
        msg = f"Too many requests; current limit is {limit} request weight per 1 MINUTE."
        return Reply(429, {"code": -1003, "msg": msg}, {**weight_header, "Retry-After": retry_after})
    reply = _binance_endpoint(state, endpoint, parts.query, headers)
    return Reply(reply.status, reply.body, {**weight_header, **reply.headers})


def _binance_endpoint(state: ExchangeState, endpoint: str, query: str, headers: Any) -> Reply:
    if endpoint == "time":
        return Reply(200, {"serverTime": int(state.now_ms())})
    auth = _binance_authenticate(state, query, headers)
    if isinstance(auth, Reply):
        return auth
    account, params = auth
    book = state.scenarios.binance
    symbol = params.get("symbol", "")
    if endpoint in ("order", "userTrades") and not symbol:
        return _bn_error(
            400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
        )
    if endpoint == "order":
        order_id, client_id = params.get("orderId", ""), params.get("origClientOrderId", "")
        if not order_id and not client_id:
            return _bn_error(
                400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
            )
        for order in _owned(book.orders, account.api_key):
            matches_id = (
                str(order["orderId"]) == order_id if order_id else order["clientOrderId"] == client_id
            )
            if matches_id and order["symbol"] == symbol:
                return Reply(200, order)
        return _bn_error(400, -2013, "Order does not exist.")
    limit_cap = {"forceOrders": 100, "userTrades": 1000, "income": 1000}[endpoint]
    limit = min(
        int(params.get("limit") or {"forceOrders": 50, "userTrades": 500, "income": 100}[endpoint]), limit_cap
    )
    if endpoint == "forceOrders":
        close_type = params.get("autoCloseType", "")
        rows = [
            o
            for o in _owned(book.force_orders, account.api_key)
            if (not symbol or o["symbol"] == symbol)
            and (close_type != "LIQUIDATION" or o["clientOrderId"].startswith("autoclose-"))
            and (close_type != "ADL" or o["clientOrderId"] == "adl_autoclose")
            and _in_window(o, params, "time", 7)
        ]
        return Reply(200, rows[:limit])
    if endpoint == "userTrades":
        rows = [
            t
            for t in _owned(book.trades, account.api_key)
            if t["symbol"] == symbol
            and (not params.get("orderId") or str(t["orderId"]) == params["orderId"])
            and _in_window(t, params, "time", 7)
        ]
        return Reply(200, rows[:limit])
    income_type = params.get("incomeType", "")
    rows = [
        i
        for i in _owned(book.income, account.api_key)
        if (not symbol or i["symbol"] == symbol)
        and (not income_type or i["incomeType"] == income_type)
        and _in_window(i, params, "time", 7)
    ]
    return Reply(200, rows[:limit])


# ---------------------------------------------------------------------------------------- the server


class _Handler(BaseHTTPRequestHandler):
    server: SimHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each response waits for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sim %s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        sim = self.server.sim
        fault, corruption = sim.faults.draw()
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
            self._send_rate_limited(config)
            return
        try:
            reply = sim.route(self.path, self.headers, self.client_address[0])
        except Exception:  # a scenario-data bug must show as a 500, like a real exchange's internal error
            log.exception("simulator failed on %s", self.path)
            reply = Reply(
                500, {"code": -1000, "msg": "An unknown error occurred while processing the request."}
            )
        body = json.dumps(reply.body, separators=(",", ":")).encode()
        if corruption is Fault.TRUNCATED:
            body = body[: max(1, len(body) // 2)]
        elif corruption is Fault.MALFORMED:
            body = b"<html><body>upstream returned garbage</body></html>"
        self._send(reply, body)

    def _send_rate_limited(self, config: FaultConfig) -> None:
        if self.path.startswith("/api/v5/"):
            reply = Reply(429, None)
            body = b'{"msg":"Too Many Requests","code":"50011"}'
        else:
            reply = Reply(429, None, {"X-MBX-USED-WEIGHT-1M": "2400"})
            body = b'{"code":-1003,"msg":"Too many requests; current limit is 2400 weight per 1 MINUTE."}'
        if config.retry_after_seconds is not None:
            reply.headers["Retry-After"] = str(config.retry_after_seconds)
        self._send(reply, body)

    def _send(self, reply: Reply, body: bytes) -> None:
        self.server.sim.state.record(urlsplit(self.path).path, reply.status)
        self.send_response(reply.status)
        content_type = "application/json" if body.startswith((b"{", b"[")) else "text/html"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    sim: SimExchange

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
        self.state = ExchangeState(scenarios, limits or SimLimits(), clock)
        self.faults = FaultInjector(faults or FaultConfig())
        self.httpd = SimHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.sim = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, raw_path: str, headers: Any, client_ip: str) -> Reply:
        if raw_path.startswith("/api/v5/"):
            return handle_okx(self.state, raw_path, headers)
        if raw_path.startswith("/fapi/"):
            return handle_binance(self.state, raw_path, headers, client_ip)
        return Reply(404, {"code": 404, "msg": "Not Found"})

    def set_faults(self, faults: FaultConfig) -> None:
        self.faults.configure(faults)

    def reset_limits(self, limits: SimLimits | None = None) -> None:
        scenarios, clock = self.state.scenarios, self.state.clock
        self.state = ExchangeState(scenarios, limits or self.state.limits, clock)

    def start(self) -> SimExchange:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sim-exchange", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
