"""What every simulated exchange shares: the reply type, limit counters, and the scenario indexes."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keeper.sim.scenarios import OwnedRecord, ScenarioFile


@dataclass(frozen=True)
class SimLimits:
    """Published limits by default; tests lower them to provoke throttling quickly."""

    okx_per_2s: dict[str, int] = field(
        default_factory=lambda: {"trade/order": 60, "trade/fills": 60, "trade/fills-history": 10}
    )
    okx_window_ms: int = 2000
    binance_weight_per_minute: int = 2400
    binance_ban_after_violations: int = 3
    """Requests an IP may send during its 429 back-off; the next one is banned (418)."""
    binance_ban_first_seconds: int = 120
    binance_ban_max_seconds: int = 3 * 86_400
    """Bans last 2 minutes, doubling with each repeat, up to 3 days (Binance "General info" on limits)."""
    bybit_per_uid_per_s: int = 50
    """Bybit v5 per UID and endpoint, rolling second (order/history, execution/list, position/closed-pnl)."""
    bybit_ip_per_5s: int = 600
    bybit_ip_ban_seconds: int = 600
    """Over 600 requests in 5 s an IP gets 403 "access too frequent" and must wait at least 10 minutes."""


@dataclass(frozen=True)
class SeenRequest:
    raw_path: str
    okx_timestamp: str
    status: int


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

    def hit_status(self, key: str, limit: int, window_ms: int, now_ms: float) -> tuple[bool, int, float]:
        """Like ``hit``, plus the requests left in the window after this one and when the oldest counted
        request leaves it (Bybit's ``X-Bapi-Limit-Status`` / ``X-Bapi-Limit-Reset-Timestamp``)."""
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now_ms - window_ms:
                hits.popleft()
            allowed = len(hits) < limit
            if allowed:
                hits.append(now_ms)
            # The reset time is the current time unless the limit is exceeded (Bybit's rate-limit page).
            reset = now_ms if allowed else hits[0] + window_ms
            return allowed, max(0, limit - len(hits)), reset


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
        self.bybit_accounts = {a.api_key: a for a in scenarios.accounts if a.exchange == "bybit"}
        self.bybit_uid_windows = SlidingWindow()
        self.bybit_ip_windows = SlidingWindow()
        self.bybit_banned_until: dict[str, float] = {}
        """Client IP -> unix ms until which every Bybit request gets 403 (an IP over its 600 / 5 s)."""
        self.bybit_lock = threading.Lock()
        self.request_log: list[tuple[str, int]] = []
        self.seen: list[SeenRequest] = []
        """Every request as it arrived (path with query, the timestamp header), for tests of re-signing."""
        self._log_lock = threading.Lock()

    def now_ms(self) -> float:
        return self.clock() * 1000

    def record(self, path: str, status: int, raw_path: str = "", okx_timestamp: str = "") -> None:
        with self._log_lock:
            self.request_log.append((path, status))
            self.seen.append(SeenRequest(raw_path or path, okx_timestamp, status))


def owned(records: list[OwnedRecord], owner: str) -> list[dict[str, Any]]:
    return [r.wire for r in records if r.owner == owner]
