"""Client-side rate limiting: per-endpoint windows (pyrate-limiter) and Binance's server-reported weight."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pyrate_limiter import Duration, InMemoryBucket, Limiter, Rate


@dataclass(frozen=True)
class EndpointRate:
    """At most ``limit`` units (requests or weight) per ``period_ms`` for one endpoint key."""

    limit: int
    period_ms: int


class LimiterTimeoutError(TimeoutError):
    """The limiter could not grant capacity within the allowed wait."""

    def __init__(self, key: str, weight: int, waited_seconds: float) -> None:
        super().__init__(f"no capacity for {key} (weight {weight}) after {waited_seconds:.1f}s")
        self.key = key
        self.weight = weight


class EndpointLimiter:
    """One sliding-window limiter per endpoint key, shared by every worker thread of an exchange.

    Threads block only on the endpoint they use, so unrelated endpoints are not serialised.
    """

    def __init__(self, rates: dict[str, EndpointRate], default: EndpointRate, max_wait_seconds: float) -> None:
        self._rates = dict(rates)
        self._default = default
        self._max_wait = max_wait_seconds
        self._limiters: dict[str, Limiter] = {}
        self._lock = threading.Lock()

    def rate_for(self, key: str) -> EndpointRate:
        return self._rates.get(key, self._default)

    def acquire(self, key: str, weight: int = 1) -> None:
        limiter = self._limiter(key)
        started = time.monotonic()
        granted = limiter.try_acquire(key, weight=weight, blocking=True, timeout=self._max_wait)
        if granted is not True:
            raise LimiterTimeoutError(key, weight, time.monotonic() - started)

    def _limiter(self, key: str) -> Limiter:
        with self._lock:
            limiter = self._limiters.get(key)
            if limiter is None:
                rate = self.rate_for(key)
                limiter = Limiter(InMemoryBucket([Rate(rate.limit, Duration.MILLISECOND * rate.period_ms)]))
                self._limiters[key] = limiter
            return limiter


class UsedWeightGate:
    """Holds requests back when the server says the current minute's weight budget is nearly spent.

    Binance counts weight per IP and per clock minute and reports it in ``X-MBX-USED-WEIGHT-1M``; other
    clients on the same IP spend from the same budget, which a local limiter cannot see.
    """

    def __init__(
        self,
        limit: int,
        safety_margin: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._limit = limit
        self._margin = safety_margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._minute = -1
        self._used = 0

    def observe(self, used_weight: int) -> None:
        with self._lock:
            minute = int(self._clock() // 60)
            if minute != self._minute:
                self._minute, self._used = minute, used_weight
            else:
                self._used = max(self._used, used_weight)

    def wait_for(self, weight: int, max_wait_seconds: float) -> float:
        """Sleep until the next minute if ``weight`` would cross the budget; returns the seconds slept."""
        with self._lock:
            now = self._clock()
            minute = int(now // 60)
            if minute != self._minute or self._used + weight <= self._limit - self._margin:
                return 0.0
            delay = (minute + 1) * 60 - now
        if delay > max_wait_seconds:
            raise LimiterTimeoutError("binance:used-weight-1m", weight, 0.0)
        self._sleep(delay)
        return delay
