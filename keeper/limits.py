"""Client-side rate limiting: per-endpoint windows (pyrate-limiter) and Binance's server-reported weight."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyrate_limiter import AbstractBucket, BucketFactory, InMemoryBucket, Limiter, Rate, RateItem


@dataclass(frozen=True)
class EndpointRate:
    """At most ``limit`` units (requests or weight) per ``period_ms`` for one endpoint key."""

    limit: int
    period_ms: int


@dataclass(frozen=True)
class LimiterNeed:
    """``weight`` units of one limiter key that a look-up is expected to take (what a scheduler checks)."""

    key: str
    weight: int = 1

    def __post_init__(self) -> None:
        if self.weight < 1:
            raise ValueError(f"a limiter need takes at least 1 unit, got {self.weight} for {self.key}")


AcquireListener = Callable[[str, int], None]
"""Told ``(key, weight)`` in the acquiring thread each time the limiter grants capacity."""


EDGE_GUARD_MS = 50
"""How much longer than the exchange's period a granted unit holds its place in the limiter's window (and
so how long after the period ``ready_in`` first reports its room). The server counts arrivals and the
limiter counts grants: a request granted right at the window's edge can arrive less than a period after a
request of the previous window that was delayed on its way (a new connection, the GIL), and draw a 429.
pyrate-limiter's own blocking wait wakes tens of ms late, which hid this while few workers waited in it;
at 32 workers a grant at the edge drew OKX 429s, so every grant keeps the slack. It costs 50 ms per
window reuse (2.5 % of OKX's 2 s windows, 0.1 % of Binance's minute) only when a bucket is full."""


class LimiterTimeoutError(TimeoutError):
    """The limiter could not grant capacity within the allowed wait."""

    def __init__(self, key: str, weight: int, waited_seconds: float) -> None:
        super().__init__(f"no capacity for {key} (weight {weight}) after {waited_seconds:.1f}s")
        self.key = key
        self.weight = weight


class _KeyedBuckets(BucketFactory):
    """One in-memory bucket per key, all emptied by the factory's single leaker thread."""

    def __init__(self, rate_for: Callable[[str], EndpointRate], edge_guard_ms: int) -> None:
        self._rate_for = rate_for
        self._edge_guard_ms = edge_guard_ms
        self._buckets: dict[str, AbstractBucket] = {}
        self._lock = threading.Lock()

    def bucket_for(self, key: str) -> AbstractBucket:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                rate = self._rate_for(key)
                # A unit holds its place for the period and the edge guard: every grant, not only the
                # scheduler's look, keeps the slack (EDGE_GUARD_MS).
                window = rate.period_ms + self._edge_guard_ms
                bucket = self.create(InMemoryBucket, [Rate(rate.limit, window)])
                self._buckets[key] = bucket
            return bucket

    def wrap_item(self, name: str, weight: int = 1) -> RateItem:
        now: object = self.bucket_for(name).now()  # type: ignore[no-untyped-call]
        if not isinstance(now, int):
            raise TypeError(f"in-memory buckets have a synchronous integer clock, got {type(now).__name__}")
        return RateItem(name, now, weight=weight)

    def get(self, item: RateItem) -> AbstractBucket:
        return self.bucket_for(item.name)


class EndpointLimiter:
    """Sliding-window limits per endpoint key, shared by every worker thread of an exchange.

    Keys are ``<rate name>|<scope>``; a thread waits only for its own key, so unrelated endpoints and users
    are not serialised.
    """

    def __init__(
        self,
        rates: dict[str, EndpointRate],
        default: EndpointRate,
        max_wait_seconds: float,
        edge_guard_ms: int = EDGE_GUARD_MS,
    ) -> None:
        self._rates = dict(rates)
        self._default = default
        self._max_wait = max_wait_seconds
        self._edge_guard_ms = edge_guard_ms
        self._buckets = _KeyedBuckets(self.rate_for, edge_guard_ms)
        self._limiter = Limiter(self._buckets)
        self._listeners: list[AcquireListener] = []
        self._listeners_lock = threading.Lock()

    def rate_for(self, key: str) -> EndpointRate:
        return self._rates.get(key.split("|", 1)[0], self._default)

    @property
    def max_wait_seconds(self) -> float:
        """How long ``acquire`` waits before it raises ``LimiterTimeoutError``."""
        return self._max_wait

    def acquire(self, key: str, weight: int = 1) -> None:
        started = time.monotonic()
        granted = self._limiter.try_acquire(key, weight=weight, blocking=True, timeout=self._max_wait)
        if granted is not True:
            raise LimiterTimeoutError(key, weight, time.monotonic() - started)
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(key, weight)

    def ready_in(self, key: str, weight: int = 1) -> float:
        """Seconds until ``acquire(key, weight)`` would be granted at once; consumes nothing.

        The sliding-log rule of the bucket: the window holds the last ``period_ms`` + ``edge_guard_ms``
        (``EDGE_GUARD_MS``); ``weight`` units fit when the unit ``limit - weight`` places before the newest
        has left it. A weight above the limit can never be granted: ``ValueError``.
        """
        rate = self.rate_for(key)
        if not 1 <= weight <= rate.limit:
            raise ValueError(f"weight {weight} for {key} is outside 1..{rate.limit} (its limit)")
        bucket = self._buckets.bucket_for(key)
        blocking: RateItem | None = bucket.peek(rate.limit - weight)  # type: ignore[assignment]
        if blocking is None:
            return 0.0
        now: object = bucket.now()  # type: ignore[no-untyped-call]
        if not isinstance(now, int):
            raise TypeError(f"in-memory buckets have a synchronous integer clock, got {type(now).__name__}")
        # +1: the window's lower bound is inclusive (pyrate-limiter's retry_after does the same).
        return max(0, blocking.timestamp + rate.period_ms + 1 + self._edge_guard_ms - now) / 1000

    def available(self, key: str) -> int:
        """Units of ``key`` that could be granted now (its limit less the units in the window)."""
        rate = self.rate_for(key)
        bucket = self._buckets.bucket_for(key)
        now: object = bucket.now()  # type: ignore[no-untyped-call]
        if not isinstance(now, int):
            raise TypeError(f"in-memory buckets have a synchronous integer clock, got {type(now).__name__}")
        window_start = now - rate.period_ms - self._edge_guard_ms
        # peek(i) is the i-th newest unit; the units in the window are a prefix of that order.
        low, high = 0, rate.limit  # the count in the window is in low..high
        while low < high:
            middle = (low + high) // 2
            item: RateItem | None = bucket.peek(middle)  # type: ignore[assignment]
            if item is not None and item.timestamp >= window_start:
                low = middle + 1
            else:
                high = middle
        return rate.limit - low

    def subscribe(self, listener: AcquireListener) -> Callable[[], None]:
        """Call ``listener(key, weight)`` after every grant; returns the function that unsubscribes it."""
        with self._listeners_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe


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

    def remaining(self) -> int:
        """Weight the server's figure leaves in the current minute, less the safety margin (at least 0)."""
        with self._lock:
            used = self._used if int(self._clock() // 60) == self._minute else 0
        return max(0, self._limit - self._margin - used)

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


@dataclass(frozen=True)
class BackOffState:
    """An active back-off: nothing may be sent before ``until`` (unix seconds on the exchange's clock)."""

    until: float
    reason: str


CLOSING_RETRY_SECONDS = 1.0
"""How far ahead ``SharedBackOff.active`` says the base URL reopens while a refusal is still being read."""


class SharedBackOff:
    """One back-off for one base URL, shared by every worker and account that sends to it.

    Binance counts weight per IP and, after a 429, expects the client to stop ("it's your obligation as an
    API to back off"); a client that keeps sending is banned with 418 for 2 minutes up to 3 days. So the
    first 429 / 418 closes the base URL for everyone until the time the exchange named, and a ban whose end
    the exchange did not name lasts ``default_seconds``, doubling with each such ban up to ``max_seconds``.
    """

    def __init__(self, default_seconds: float = 120.0, max_seconds: float = 3 * 86_400.0) -> None:
        if not 0 < default_seconds <= max_seconds:
            raise ValueError(f"need 0 < default_seconds ({default_seconds}) <= max_seconds ({max_seconds})")
        self._default = default_seconds
        self._max = max_seconds
        self._lock = threading.Lock()
        self._state: BackOffState | None = None
        self._closing = 0
        self._unnamed_bans = 0
        self.imposed = 0
        """How many 429 / 418 answers closed or extended the back-off (for metrics)."""

    def active(self, now: float) -> BackOffState | None:
        with self._lock:
            if self._closing:
                # Its end is not known yet: a claim refused now is retried after a moment, by which time the
                # back-off the refusal names is in force.
                return BackOffState(now + CLOSING_RETRY_SECONDS, "a 429 / 418 answer is being read")
            state = self._state
        return state if state is not None and state.until > now else None

    @contextmanager
    def closing(self) -> Iterator[None]:
        """Closed from the moment a refusal's status line is seen until it is read and ``impose``d: another
        worker must not send in between (Binance bans an IP that keeps sending after a 429)."""
        with self._lock:
            self._closing += 1
        try:
            yield
        finally:
            with self._lock:
                self._closing -= 1

    def impose(self, until: float, reason: str) -> BackOffState:
        """Close the base URL until ``until``; an earlier deadline never shortens a later one."""
        with self._lock:
            self.imposed += 1
            if self._state is None or until > self._state.until:
                self._state = BackOffState(until, reason)
            return self._state

    def default_ban_seconds(self) -> float:
        """The length of a ban whose end the exchange did not say: 2 min, 4 min, ... at most 3 days."""
        with self._lock:
            seconds = min(self._max, self._default * float(2**self._unnamed_bans))
            self._unnamed_bans += 1
            return seconds
