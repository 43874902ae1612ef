"""Binance history answers shared by the claims of one account: one ``income`` read of a fixed day serves
every claim of that account and day (income costs 30 with or without a symbol, so the day request names
none), one ``forceOrders`` read every claim of the account, symbol and day (20 with a symbol, 50 without).

Why a fixed grid rather than "any cached answer whose window covers mine": the request a claim sends must
follow from the claim alone, so that a replay (which has no cache, only the claim's recorded answers) asks
exactly the requests the live adapter asked. Claims of one account (and symbol) on one UTC day all ask the
same request, and the first answer to it serves the others.

When an answer may serve a claim other than the one that read it: when its read began at or after the
claim's ``fresh_after`` (``fresh_after_ms``), the earlier of

- the moment the claim's verification began: the claim's own read would have begun then or later, and would
  also miss a row posted after it, so an answer read since then is as complete as its own (and the claim
  records it with its true arrival time, so the evidence's timeline says when it was seen);
- ``SETTLE_MS`` after the claim's window ended: rows are stamped with their posting time, so once a window has
  ended no row can join it, and an answer read after that holds every row a fresh read would.

An answer read before both may lack a penalty (or a rival forced order) a read of the claim's own would
find, and is not used. The time that counts is when the read *began* (the clock before the request, less
than its arrival): the exchange took its snapshot somewhere between the two.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from keeper.exchanges.answers import RawAnswer

DAY_MS = 86_400_000
SHARED_CELL_MS = DAY_MS
"""The grid of shared windows: UTC days. A cascade of liquidations lands in one or two of them; a day of one
account's forced orders of one symbol stays far below forceOrders' 100-row limit (the adapter falls back to
the claim's own window when it does not)."""
MAX_SHARED_CELLS = 1
"""A claim whose window spans more cells than this (one that crosses midnight UTC) reads its own window: two
day windows would cost it twice the weight of its own when no other claim has read them yet, and a claim
would cost more than ``binance.worst_case_claim_weight`` says."""
SETTLE_MS = 60_000
"""How long after a window's end a read must have begun to stand for a fresh read of any later claim (our
assumption:
Binance documents no posting delay; a minute covers replication between its servers)."""
MAX_ENTRIES = 8_192
"""Answers kept (least recently used dropped first). A backlog is verified in filing order, and an account's
claims are spread over the whole backlog, so an account's day must stay kept until its last claim is read:
a crash day of 2,500 accounts needs about one income day and one or two forceOrders days per Binance account
(833 accounts in the 10,000-claim burst: ~2,500 answers; with 512 kept, it read 38 % more income days per
claim than the 1,000-claim run, whose 83 accounts all stayed kept)."""
MAX_BYTES = 16 * 1024 * 1024
"""And at most this many body bytes, the bound on memory (a full 1000-row income day is about 200 KB; a crash
day's typical account-day a few KB)."""


class GridCellError(ValueError):
    """A window the grid cannot cut (its end before its start)."""

    def __init__(self, start_ms: int, end_ms: int) -> None:
        super().__init__(f"window ends at {end_ms}, before its start {start_ms}")
        self.start_ms = start_ms
        self.end_ms = end_ms


def grid_cells(start_ms: int, end_ms: int, cell_ms: int = SHARED_CELL_MS) -> list[tuple[int, int]]:
    """The inclusive windows ``[k * cell_ms, (k + 1) * cell_ms - 1]`` that cover ``[start_ms, end_ms]``."""
    if end_ms < start_ms:
        raise GridCellError(start_ms, end_ms)
    first, last = start_ms // cell_ms, end_ms // cell_ms
    return [(k * cell_ms, (k + 1) * cell_ms - 1) for k in range(first, last + 1)]


def account_key(api_key: str) -> str:
    """Names an account in the cache without holding its API key in the cache's keys."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:32]


@dataclass
class _Read:
    """One read of a request: in flight until ``done`` is set, then ``answer`` (None: the read raised)."""

    began_ms: int
    done: threading.Event = field(default_factory=threading.Event)
    answer: RawAnswer | None = None


class SharedAnswers:
    """Answers of grid requests, per account, shared by the adapters of all workers (thread-safe).

    ``answer_for`` serves the stored answer when its read began at or after ``fresh_after_ms``; else it waits
    for a read of the same request in flight that began then or later (a worker needing an answer another
    worker is reading does not read it again); else it reads (``read``) and keeps the new answer when it is a
    200. The lock is never held across a read: reads of different requests never wait for each other.
    """

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        wait: Callable[[threading.Event], object] = threading.Event.wait,
    ) -> None:
        """``wait``: how a worker waits for a read in flight (``Event.wait``; a test sees the wait begin)."""
        if max_entries < 1 or max_bytes < 1:
            raise ValueError(f"max_entries and max_bytes must be at least 1, got {max_entries}, {max_bytes}")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[tuple[str, str], _Read] = OrderedDict()
        self._in_flight: dict[tuple[str, str], list[_Read]] = {}
        self._lock = threading.Lock()
        self._wait = wait
        self.hits = 0
        """Answers served from the store."""
        self.joined = 0
        """Answers served by waiting for another worker's read in flight."""
        self.reads = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def answer_for(
        self,
        account: str,
        request: str,
        fresh_after_ms: int,
        read: Callable[[], RawAnswer],
        clock: Callable[[], int],
    ) -> tuple[RawAnswer, bool]:
        """(the answer, whether another read's answer serves it). ``clock``: the caller's clock in unix ms
        (the one ``fresh_after_ms`` is on), read as a read of its own begins."""
        key = (account, request)
        mine: _Read | None = None
        with self._lock:
            stored = self._entries.get(key)
            if stored is not None and stored.began_ms >= fresh_after_ms and stored.answer is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return stored.answer, True
            fresh = [r for r in self._in_flight.get(key, ()) if r.began_ms >= fresh_after_ms]
            if not fresh:
                mine = self._begin(key, clock())
        if mine is None:
            joined = fresh[-1]
            # Set by _finish whatever the read did: a read that raised wakes its waiters too.
            self._wait(joined.done)
            if joined.answer is not None and _keepable(joined.answer, request):
                with self._lock:
                    self.joined += 1
                return joined.answer, True
            # That read raised or was refused: this claim reads its own, as it would have alone.
            with self._lock:
                mine = self._begin(key, clock())
        try:
            mine.answer = read()
        finally:
            self._finish(key, mine, request)
        return mine.answer, False

    def _begin(self, key: tuple[str, str], began_ms: int) -> _Read:
        started = _Read(began_ms)
        self._in_flight.setdefault(key, []).append(started)
        return started

    def _finish(self, key: tuple[str, str], done: _Read, request: str) -> None:
        """The read is over: off the in-flight list, kept when it is a 200 newer than the stored one, and
        its waiters woken (also when it raised)."""
        with self._lock:
            self.reads += 1
            flying = self._in_flight[key]
            flying.remove(done)
            if not flying:
                del self._in_flight[key]
            stored = self._entries.get(key)
            answer = done.answer
            if (
                answer is not None
                and _keepable(answer, request)
                and (stored is None or stored.began_ms <= done.began_ms)
            ):
                self._entries.pop(key, None)
                self._bytes += len(answer.body) - (0 if stored is None else _size(stored))
                self._entries[key] = done
                while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                    _, dropped = self._entries.popitem(last=False)
                    self._bytes -= _size(dropped)
        done.done.set()


def _keepable(answer: RawAnswer, request: str) -> bool:
    return answer.status == 200 and answer.request == request


def _size(read: _Read) -> int:
    return 0 if read.answer is None else len(read.answer.body)
