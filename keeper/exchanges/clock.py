"""The exchange's clock as the keeper sees it: local time plus a measured offset, one per exchange.

OKX refuses a request whose timestamp is more than 30 s off its clock (50102) and Binance one outside
``timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow`` (-1021). A keeper host whose clock
drifts would otherwise sign every request with a stale timestamp; the offset is measured from the exchange's
public time endpoint (``/api/v5/public/time``, ``/fapi/v1/time``) and applied to every signature.

The time reads are not answers about a claim: the transport makes them outside ``ExchangeAdapter._fetch``, so
they are never recorded with the evidence.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

log = logging.getLogger(__name__)

ServerTimeReader = Callable[[], int]
"""Reads the exchange's clock (unix ms) with one unsigned GET; raises an ``ExchangeError`` when it cannot."""


class ServerClock:
    """``now()`` = local clock + the offset measured by the last ``sync()``; thread-safe.

    The offset is taken against the midpoint of the time request's round trip (the server stamped its
    answer somewhere in between; the midpoint halves the worst-case error). ``skew_errors`` counts every
    timestamp the exchange refused and ``alerts`` every time ``alert_after`` refusals came in a row:
    both are for metrics.
    """

    def __init__(
        self,
        exchange: str,
        reader: ServerTimeReader | None = None,
        *,
        local: Callable[[], float] = time.time,
        alert_after: int = 3,
    ) -> None:
        if alert_after < 1:
            raise ValueError(f"alert_after must be at least 1, got {alert_after}")
        self.exchange = exchange
        self._reader = reader
        self._local = local
        self._alert_after = alert_after
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._offset_ms = 0.0
        self._synced = False
        self.syncs = 0
        self.skew_errors = 0
        self.alerts = 0
        self._consecutive_skew = 0
        self.last_round_trip_ms: float | None = None

    def __repr__(self) -> str:
        return f"ServerClock({self.exchange!r}, offset_ms={self.offset_ms:.0f}, synced={self.synced})"

    @property
    def offset_ms(self) -> float:
        """Server minus local, in ms (positive: the exchange's clock is ahead of ours)."""
        with self._lock:
            return self._offset_ms

    @property
    def synced(self) -> bool:
        with self._lock:
            return self._synced

    @property
    def can_sync(self) -> bool:
        return self._reader is not None

    def now_ms(self) -> int:
        with self._lock:
            offset = self._offset_ms
        return int(self._local() * 1000 + offset)

    def now(self) -> datetime:
        """The exchange's time as best known: what adapters sign with (``ExchangeAdapter(clock=...)``)."""
        return datetime.fromtimestamp(self.now_ms() / 1000, UTC)

    def seconds(self) -> float:
        """``now()`` as unix seconds (back-off deadlines are kept on the exchange's clock)."""
        return self.now_ms() / 1000

    def ensure_synced(self) -> None:
        """Sync once, lazily, before the first signed request (no reader: nothing to sync with)."""
        if self._reader is None or self.synced:
            return
        with self._sync_lock:
            if not self.synced:  # another worker may have synced while this one waited
                self._sync_locked()

    def sync(self) -> float:
        """Measure the offset again (after a skew answer); returns it in ms."""
        with self._sync_lock:
            return self._sync_locked()

    def _sync_locked(self) -> float:
        if self._reader is None:
            raise RuntimeError(f"{self.exchange}: no server time reader configured")
        sent = self._local()
        server_ms = self._reader()
        received = self._local()
        midpoint_ms = (sent + received) / 2 * 1000
        offset = server_ms - midpoint_ms
        with self._lock:
            previous, self._offset_ms, self._synced = self._offset_ms, offset, True
            self.syncs += 1
            self.last_round_trip_ms = (received - sent) * 1000
        log.info(
            "%s clock synced: offset %+.0f ms (was %+.0f ms, round trip %.0f ms)",
            self.exchange,
            offset,
            previous,
            (received - sent) * 1000,
        )
        return offset

    def set_offset(self, offset_ms: float) -> None:
        """Use a known offset (tests; a host whose offset is measured elsewhere)."""
        with self._lock:
            self._offset_ms, self._synced = offset_ms, True

    def record_skew_error(self) -> bool:
        """The exchange refused a timestamp; returns True when this refusal raised the alert."""
        with self._lock:
            self.skew_errors += 1
            self._consecutive_skew += 1
            alert = self._consecutive_skew % self._alert_after == 0
            if alert:
                self.alerts += 1
            offset, count = self._offset_ms, self._consecutive_skew
        if alert:
            # An operator must look: the host clock jumps, or the time endpoint and the auth check disagree.
            log.error(
                "ALERT %s refused %d timestamps in a row (clock offset %+.0f ms after re-sync); "
                "claims are deferred until the clock is fixed",
                self.exchange,
                count,
                offset,
            )
        return alert

    def record_accepted(self) -> None:
        """A signed request was accepted: the skew streak is over."""
        with self._lock:
            self._consecutive_skew = 0
