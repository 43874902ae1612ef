"""Per-account scheduling of verifications: a worker takes the next claim whose account has capacity.

A FIFO pool hands claims out in filing order; when the busiest account's bucket is empty (OKX
``trade/fills-history``: 10 requests / 2 s per user) every worker can end up asleep in the limiter on that one
account while other accounts' claims could go. Here each account (exchange + accountRef) has its own queue,
the accounts take turns, and a claim leaves its queue only when the limiter keys it needs have room for it
and for what the claims already running will still take from them. A worker sleeps only when no account is
ready, until the earliest one is (or until a running claim finishes and frees its reservation).

The decision (``next_ready``) is a pure function; ``AccountScheduler`` adds the lock, the reservations and the
wait, with an injectable clock and wait so a test runs on a fake clock.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from keeper.exchanges.limits import EndpointRate, LimiterNeed
from keeper.interface import Exchange

AccountKey = tuple[Exchange, str]
"""The queue a claim waits in: its exchange and its accountRef (lower case)."""


class CapacityProbe(Protocol):
    """What the scheduler asks a limiter, without consuming anything (``EndpointLimiter``)."""

    def ready_in(self, key: str, weight: int = 1) -> float:
        """Seconds until ``weight`` units of ``key`` can be granted."""

    def rate_for(self, key: str) -> EndpointRate: ...

    @property
    def max_wait_seconds(self) -> float:
        """How long the limiter itself waits for capacity before the claim is deferred."""


@dataclass(frozen=True)
class Job:
    """One claim to verify: ``index`` into the caller's requests, the account queue it waits in, and the
    limiter keys its look-up takes (empty: it asks no limiter, e.g. an unknown account, and is always
    ready)."""

    index: int
    account: AccountKey
    needs: tuple[LimiterNeed, ...] = ()
    probe: CapacityProbe | None = None


@dataclass(frozen=True)
class Take:
    job: Job


@dataclass(frozen=True)
class Wait:
    seconds: float
    """Until the earliest queued account is ready (a running claim finishing may wake the worker sooner)."""


def job_wait(job: Job, reserved: Mapping[str, int]) -> float:
    """Seconds until every key of ``job`` has room for it on top of the units running claims reserved.

    A reservation larger than a key's whole limit asks for the whole bucket: the running claims will finish
    (and release theirs) before the limiter could ever grant that much.
    """
    if job.probe is None:
        return 0.0
    wait = 0.0
    for need in job.needs:
        limit = job.probe.rate_for(need.key).limit
        units = min(limit, need.weight + reserved.get(need.key, 0))
        wait = max(wait, job.probe.ready_in(need.key, units))
    return wait


def job_patience(job: Job) -> float:
    """How long the scheduler holds ``job`` for capacity: as long as its limiter would wait (no longer, or
    the scheduler would hold back a claim the limiter grants: the forecast is a worst case)."""
    return float("inf") if job.probe is None else job.probe.max_wait_seconds


def next_ready(
    turn: Iterable[AccountKey],
    head_of: Callable[[AccountKey], Job | None],
    wait_of: Callable[[Job], float],
    patience_of: Callable[[Job], float] = job_patience,
) -> Take | Wait | None:
    """The head claim of the first account in ``turn`` that is ready now; else how long until one is;
    None when no account has a claim queued. ``turn`` is the round-robin order (the account served last is
    at its end), so every ready account gets one claim before any gets a second. The scan stops at the
    first ready account: with thousands of accounts, most takes look at one.

    When no account is ready, a head claim whose wait exceeds its patience goes anyway: the forecast is a
    worst case and the limiter may grant it, or the limiter times out and the claim is deferred as it
    always was. Holding it would only wait longer for the same answer.
    """
    earliest: float | None = None
    overdue: Job | None = None
    for account in turn:
        job = head_of(account)
        if job is None:
            continue
        wait = wait_of(job)
        if wait <= 0:
            return Take(job)
        if overdue is None and wait > patience_of(job):
            overdue = job
        earliest = wait if earliest is None else min(earliest, wait)
    if overdue is not None:
        return Take(overdue)
    return None if earliest is None else Wait(earliest)


ConditionWait = Callable[[threading.Condition, float], object]
"""Waits on the (held) condition for at most the given seconds: ``Condition.wait``; a fake clock advances."""


def condition_wait(condition: threading.Condition, seconds: float) -> object:
    return condition.wait(seconds)


@dataclass
class SchedulerStats:
    """How often and how long workers slept with no account ready (for metrics and tests)."""

    idle_waits: int = 0
    idle_seconds: float = 0.0
    taken: list[int] = field(default_factory=list)
    """Job indexes in the order workers took them."""


class AccountScheduler:
    """Per-account queues of ``Job`` shared by the worker threads of one ``verify_stream``.

    ``take()`` blocks until a claim is ready (or returns None when none is left or ``close()`` was called);
    the worker calls ``done(job)`` when it has finished. While a job runs, its needs stay reserved; each
    grant the limiter reports for the worker's thread (``note_acquired``) turns reserved units into used
    ones, so the limiter's window and the reservations together count every unit once.
    """

    def __init__(
        self,
        jobs: Iterable[Job],
        clock: Callable[[], float] = time.monotonic,
        wait: ConditionWait = condition_wait,
    ) -> None:
        self._clock = clock
        self._wait = wait
        self._condition = threading.Condition()
        self._queues: dict[AccountKey, deque[Job]] = {}
        for job in jobs:
            self._queues.setdefault(job.account, deque()).append(job)
        # Accounts with claims queued, in turn order (an OrderedDict: moving one to the end is O(1)).
        self._turn: OrderedDict[AccountKey, None] = OrderedDict.fromkeys(self._queues)
        self._reserved: dict[str, int] = {}
        self._unspent: dict[int, dict[str, int]] = {}
        self._running: dict[int, Job] = {}  # thread ident -> its job
        self._closed = False
        self.stats = SchedulerStats()

    def take(self) -> Job | None:
        with self._condition:
            while not self._closed:
                choice = next_ready(self._turn, self._head_of, lambda job: job_wait(job, self._reserved))
                if choice is None:
                    return None
                if isinstance(choice, Take):
                    return self._dispatch(choice.job)
                self.stats.idle_waits += 1
                started = self._clock()
                self._wait(self._condition, choice.seconds)
                self.stats.idle_seconds += self._clock() - started
            return None

    def _head_of(self, account: AccountKey) -> Job | None:
        queue = self._queues[account]
        return queue[0] if queue else None

    def _dispatch(self, job: Job) -> Job:
        queue = self._queues[job.account]
        queue.popleft()
        if queue:
            self._turn.move_to_end(job.account)  # served: last in turn
        else:
            del self._turn[job.account]
        unspent: dict[str, int] = {}
        for need in job.needs:
            unspent[need.key] = unspent.get(need.key, 0) + need.weight
            self._reserved[need.key] = self._reserved.get(need.key, 0) + need.weight
        self._unspent[job.index] = unspent
        self._running[threading.get_ident()] = job
        self.stats.taken.append(job.index)
        return job

    def note_acquired(self, key: str, weight: int) -> None:
        """A limiter granted ``weight`` of ``key`` in the calling thread (``EndpointLimiter.subscribe``);
        threads that run no job of this scheduler are ignored."""
        with self._condition:
            job = self._running.get(threading.get_ident())
            if job is None:
                return
            unspent = self._unspent[job.index]
            spent = min(weight, unspent.get(key, 0))
            if spent:
                unspent[key] -= spent
                self._reserved[key] -= spent

    def done(self, job: Job) -> None:
        with self._condition:
            for key, units in self._unspent.pop(job.index, {}).items():
                self._reserved[key] -= units
            if self._running.get(threading.get_ident()) == job:
                del self._running[threading.get_ident()]
            self._condition.notify_all()

    def close(self) -> None:
        """Drop every queued claim (a caller stopped early); running ones finish, ``take`` returns None."""
        with self._condition:
            self._closed = True
            for queue in self._queues.values():
                queue.clear()
            self._turn.clear()
            self._condition.notify_all()

    def reserved(self) -> dict[str, int]:
        """Units of each key that running claims have reserved and not yet been granted."""
        with self._condition:
            return {key: units for key, units in self._reserved.items() if units}
