"""Client-side rate limiting: per-endpoint sliding windows and Binance's server-reported weight."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


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


EDGE_GUARD_MS = 10
"""How much longer than the exchange's period a unit holds its place in the limiter's window (and so how
long after the period ``ready_in`` first reports its room): the exchanges stamp arrivals in whole
milliseconds, so a unit that left the window by a fraction of one could still be counted by the server."""


class LimiterTimeoutError(TimeoutError):
    """The limiter could not grant capacity within the allowed wait."""

    def __init__(self, key: str, weight: int, waited_seconds: float) -> None:
        super().__init__(f"no capacity for {key} (weight {weight}) after {waited_seconds:.1f}s")
        self.key = key
        self.weight = weight


@dataclass
class _SlidingLog:
    """The units of one key: those in flight, and those done with the time each was done.

    The server counts a request when it arrives, which is after the limiter's grant and before its answer
    is back. A unit stamped when its answer is back is therefore never older than the server's count of it,
    however long the request waited for the GIL, a connection or the server's own thread: a window of these
    stamps holds at least every request the server's window holds. (A unit stamped at its grant, as
    pyrate-limiter's buckets do, fails this under load: CI's two cores drew OKX 429s with a 50 ms guard.)
    """

    limit: int
    window_seconds: float
    in_flight: int = 0
    done: deque[tuple[float, int]] = field(default_factory=deque)
    done_units: int = 0

    def _forget_before(self, now: float) -> None:
        while self.done and self.done[0][0] + self.window_seconds <= now:
            _, weight = self.done.popleft()
            self.done_units -= weight

    def used(self, now: float) -> int:
        self._forget_before(now)
        return self.in_flight + self.done_units

    def ready_in(self, weight: int, now: float) -> float:
        """Seconds until ``weight`` more units fit; a unit still in flight is assumed done now."""
        excess = self.used(now) + weight - self.limit
        if excess <= 0:
            return 0.0
        freed = 0
        for stamp, units in self.done:
            freed += units
            if freed >= excess:
                return stamp + self.window_seconds - now
        return self.window_seconds

    def start(self, weight: int) -> None:
        self.in_flight += weight

    def finish(self, weight: int, now: float) -> None:
        self.in_flight -= weight
        self.done.append((now, weight))
        self.done_units += weight


class EndpointLimiter:
    """Sliding-window limits per endpoint key, shared by every worker thread of an exchange.

    Keys are ``<rate name>|<scope>``; a thread waits only for its own key, so unrelated endpoints and users
    are not serialised. A request takes its units with ``hold`` for as long as it is on its way, so the
    window counts it from its answer (``_SlidingLog`` says why); ``acquire`` takes units that are done at
    once.
    """

    def __init__(
        self,
        rates: dict[str, EndpointRate],
        default: EndpointRate,
        max_wait_seconds: float,
        edge_guard_ms: int = EDGE_GUARD_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rates = dict(rates)
        self._default = default
        self._max_wait = max_wait_seconds
        self._edge_guard_seconds = edge_guard_ms / 1000
        self._clock = clock
        self._logs: dict[str, _SlidingLog] = {}
        self._changed = threading.Condition()
        self._listeners: list[AcquireListener] = []
        self._listeners_lock = threading.Lock()

    def rate_for(self, key: str) -> EndpointRate:
        return self._rates.get(key.split("|", 1)[0], self._default)

    @property
    def max_wait_seconds(self) -> float:
        """How long ``acquire`` waits before it raises ``LimiterTimeoutError``."""
        return self._max_wait

    @contextmanager
    def hold(self, key: str, weight: int = 1) -> Iterator[None]:
        """Grant ``weight`` units of ``key`` (waiting at most ``max_wait_seconds``) for the request sent
        inside the block; they leave the window a period after the block ends."""
        self._start(key, weight)
        try:
            yield
        finally:
            self._finish(key, weight)

    def acquire(self, key: str, weight: int = 1) -> None:
        """Grant ``weight`` units of ``key`` that leave the window a period from now."""
        with self.hold(key, weight):
            pass

    def ready_in(self, key: str, weight: int = 1) -> float:
        """Seconds until ``acquire(key, weight)`` would be granted at once; consumes nothing.

        The window holds the last period plus ``EDGE_GUARD_MS``; a unit still in flight counts as if done
        now. A weight above the limit can never be granted: ``ValueError``.
        """
        self._check_weight(key, weight)
        with self._changed:
            return self._log(key).ready_in(weight, self._clock())

    def available(self, key: str) -> int:
        """Units of ``key`` that could be granted now: the limit less the units in flight or in the window."""
        with self._changed:
            log = self._log(key)
            return max(0, log.limit - log.used(self._clock()))

    def subscribe(self, listener: AcquireListener) -> Callable[[], None]:
        """Call ``listener(key, weight)`` after every grant; returns the function that unsubscribes it."""
        with self._listeners_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _check_weight(self, key: str, weight: int) -> None:
        limit = self.rate_for(key).limit
        if not 1 <= weight <= limit:
            raise ValueError(f"weight {weight} for {key} is outside 1..{limit} (its limit)")

    def _log(self, key: str) -> _SlidingLog:
        log = self._logs.get(key)
        if log is None:
            rate = self.rate_for(key)
            log = _SlidingLog(rate.limit, rate.period_ms / 1000 + self._edge_guard_seconds)
            self._logs[key] = log
        return log

    def _start(self, key: str, weight: int) -> None:
        self._check_weight(key, weight)
        started = self._clock()
        deadline = started + self._max_wait
        with self._changed:
            log = self._log(key)
            while True:
                now = self._clock()
                wait = log.ready_in(weight, now)
                if wait == 0:
                    log.start(weight)
                    break
                if now >= deadline:
                    raise LimiterTimeoutError(key, weight, now - started)
                # Woken early when any request of any key is done: its units may be the ones awaited.
                self._changed.wait(min(wait, deadline - now))
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(key, weight)

    def _finish(self, key: str, weight: int) -> None:
        with self._changed:
            self._log(key).finish(weight, self._clock())
            self._changed.notify_all()


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
