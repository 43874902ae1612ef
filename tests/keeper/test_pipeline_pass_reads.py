"""A pass costs what it can do, not what waits (issue 15, the 10,000-claim burst): over a large backlog of
Binance claims its weight budget covers a few of, and thousands of approvals in their challenge window, a
pass reads from the store about as many rows as it admits claims, whatever the backlog. Counted, not timed:
every row any store statement returns is counted, under a pipeline whose chain and verifier are fakes. The
same fakes show what a pass tells its observer (the bench's step timings)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from keeper.chain import ClaimView, PolicyView
from keeper.exchanges.admission import Admission
from keeper.interface import ClaimStatus, Exchange
from keeper.pipeline import EXCHANGE_WAIT, Pipeline, PipelineConfig
from keeper.policy import PolicyParams
from keeper.store import ClaimRecord, ClaimState, SqlStore
from keeper.store.sql import Connection, Cursor, Row
from keeper.store.sqlite import SqliteDatabase
from keeper.verification import VerificationOutcome, VerificationRequest

NOW = 1_000_000
PAYABLE_AT = NOW + 3_600  # the approvals' challenge window is still open
POLICY = PolicyParams(
    coverage_ratio=Decimal("0.8"),
    claim_window_seconds=604_800,
    max_payout_per_claim=10**10,
    policy_version="p1",
)
USER = "0x" + "11" * 20


class CountingCursor:
    def __init__(self, cursor: Cursor, counter: RowCounter) -> None:
        self._cursor = cursor
        self._counter = counter

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def fetchone(self) -> Row | None:
        row = self._cursor.fetchone()
        self._counter.rows += row is not None
        return row

    def fetchall(self) -> Sequence[Row]:
        rows = self._cursor.fetchall()
        self._counter.rows += len(rows)
        return rows


class CountingConnection:
    def __init__(self, conn: Connection, counter: RowCounter) -> None:
        self._conn = conn
        self._counter = counter

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> CountingCursor:
        return CountingCursor(self._conn.execute(sql, parameters), self._counter)

    def executemany(self, sql: str, parameters: Any, /) -> object:
        return self._conn.executemany(sql, parameters)


class RowCounter(SqliteDatabase):
    """The SQLite adapter, counting every row its statements return (``rows``)."""

    rows = 0

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with super().read() as conn:
            yield CountingConnection(conn, self)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with super().transaction() as conn:
            yield CountingConnection(conn, self)


class Chain:
    """The chain as a pass reads it: every claim Pending (posted ones Approved, still in their window);
    nothing new to ingest."""

    def __init__(self, posted: set[int]) -> None:
        self.posted = posted
        self.claims_read: list[int] = []

    def head(self) -> int:
        return 10  # the store's cursor: no new blocks

    def now(self) -> int:
        return NOW

    def view(self, claim_id: int) -> ClaimView:
        status = ClaimStatus.APPROVED if claim_id in self.posted else ClaimStatus.PENDING
        payable = PAYABLE_AT if claim_id in self.posted else 0
        return ClaimView(
            user=USER,
            exchange=int(Exchange.BINANCE),
            status=status,
            claimed_loss=100,
            payout=0,
            submitted_at=NOW - 60,
            decided_at=0,
            reason_code=0,
            payable_at=payable,
        )

    def claims(self, claim_ids: Sequence[int]) -> dict[int, ClaimView]:
        self.claims_read.extend(claim_ids)
        return {claim_id: self.view(claim_id) for claim_id in claim_ids}

    def claims_and_policies(
        self, claim_ids: Sequence[int], users: Sequence[str]
    ) -> tuple[dict[int, ClaimView], dict[str, PolicyView]]:
        policy = PolicyView(
            account_ref="0x" + "cd" * 32,
            coverage_limit=10**9,
            coverage_start=0,
            coverage_end=NOW + 10**6,
            used=0,
            whitelisted=True,
            blacklisted=False,
        )
        return self.claims(claim_ids), {user: policy for user in users}

    def policy_changes(self, start: int, end: int) -> list[Any]:
        return []

    def max_payout_per_claim(self) -> int:
        return 10**10


class Verifier:
    """Binance's budget covers ``budget`` claims; the claims handed over are recorded, never answered (they
    stay due: this test is about what a pass reads, not what it decides)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.admitted: list[VerificationRequest] = []
        self.verified: list[VerificationRequest] = []

    def admission_caps(self) -> dict[Exchange, int]:
        return {Exchange.BINANCE: self.budget}

    def admit(self, requests: Sequence[VerificationRequest]) -> Admission:
        binance = [i for i, r in enumerate(requests) if r.exchange is Exchange.BINANCE]
        admitted = [i for i in range(len(requests)) if i not in binance[self.budget :]]
        self.admitted.extend(requests[i] for i in admitted)
        return Admission(admitted=admitted, waiting=binance[self.budget :])

    def verify_stream(
        self, requests: Sequence[VerificationRequest]
    ) -> Iterator[tuple[int, VerificationOutcome]]:
        self.verified.extend(requests)
        return iter(())


def record(claim_id: int, exchange: Exchange) -> ClaimRecord:
    return ClaimRecord(
        claim_id=claim_id,
        user=USER,
        exchange=int(exchange),
        account_ref="0x" + "cd" * 32,
        order_id=f"order-{claim_id}",
        instrument="BTCUSDT",
        claimed_loss=100,
        block_number=5,
        log_index=claim_id,
    )


def keeper_over(
    tmp_path: Path, due_binance: int, due_okx: int, posted: int, budget: int, **config: Any
) -> tuple[Pipeline, RowCounter, Chain, Verifier]:
    """A store with ``posted`` approvals in their window (a pass already held them) and then the due
    backlog: ``due_binance`` Binance claims, ``due_okx`` OKX ones."""
    db = RowCounter(tmp_path / "keeper.sqlite3")
    store = SqlStore(db)
    posted_ids = set(range(1, posted + 1))
    binance = range(posted + 1, posted + due_binance + 1)
    okx = range(posted + due_binance + 1, posted + due_binance + due_okx + 1)
    claims = [record(i, Exchange.BINANCE) for i in sorted(posted_ids) + list(binance)]
    store.record_claims(claims + [record(i, Exchange.OKX) for i in okx], cursor=10)
    store.set_state(sorted(posted_ids), ClaimState.POSTED)
    store.hold_payouts({claim_id: PAYABLE_AT for claim_id in posted_ids})
    chain, verifier = Chain(posted_ids), Verifier(budget)
    audit: Any = None  # nothing is decided, so nothing is audited
    pipeline = Pipeline(chain, store, audit, verifier, POLICY, PipelineConfig(confirmations=0, **config))  # type: ignore[arg-type]
    db.rows = 0
    return pipeline, db, chain, verifier


@pytest.mark.parametrize("backlog", [200, 5_000])
def test_run_once__large_binance_backlog_and_held_approvals__reads_rows_of_the_admitted_only(
    tmp_path: Path, backlog: int
) -> None:
    pipeline, db, chain, verifier = keeper_over(
        tmp_path, due_binance=backlog, due_okx=0, posted=backlog, budget=3
    )

    report = pipeline.run_once()

    assert len(verifier.verified) == 3  # what the budget covers
    assert report.waiting_for_budget == [backlog + 4]  # the one read beyond it: says the budget binds
    # The cursor row, the 3 admitted and the 1 beyond; nothing of the other Binance claims or of the
    # approvals still in their window (at most a few rows more for the pass's other small reads).
    assert db.rows <= 3 + 1 + 1 + 2
    assert chain.claims_read == [backlog + 1, backlog + 2, backlog + 3]  # the admitted claims' views only


def test_run_once__mixed_backlog_two_and_a_half_times_larger__same_rows_read(tmp_path: Path) -> None:
    counts = []
    for backlog in (2_000, 5_000):
        folder = tmp_path / str(backlog)
        folder.mkdir()
        pipeline, db, _, verifier = keeper_over(folder, backlog, backlog, backlog, budget=3)
        pipeline.run_once()
        counts.append(db.rows)
        # pass_claim_limit: Binance's 3 and the 1 beyond its budget (which waits), then 996 OKX claims.
        assert len(verifier.verified) == 999
    assert counts[0] == counts[1]
    assert counts[1] <= 1_000 + 3  # the limit (the Binance claim beyond the budget within it), small reads


def test_run_once__okx_backlog_over_the_pass_limit__takes_the_limit_and_reads_no_more(tmp_path: Path) -> None:
    pipeline, db, _, verifier = keeper_over(
        tmp_path, due_binance=0, due_okx=300, posted=0, budget=3, pass_claim_limit=100
    )

    pipeline.run_once()

    assert [r.order_id for r in verifier.verified] == [f"order-{i}" for i in range(1, 101)]
    assert db.rows <= 100 + 3


def test_run_once__approvals_held__read_again_once_payable(tmp_path: Path) -> None:
    pipeline, db, chain, _ = keeper_over(tmp_path, due_binance=0, due_okx=0, posted=50, budget=3)
    pipeline.run_once()
    assert chain.claims_read == []  # held until PAYABLE_AT: not read, on chain or in the store
    assert db.rows <= 3

    # A pass straight after the verdicts were posted reads each approval once and holds it.
    store = pipeline.store
    store.record_claims([record(51, Exchange.OKX)], cursor=10)
    store.set_state([51], ClaimState.POSTED)
    chain.posted.add(51)
    pipeline.run_once()
    pipeline.run_once()
    assert chain.claims_read == [51]
    assert store.claim(51).payout_retry_at == PAYABLE_AT


class StepLog:
    """A ``PassObserver`` keeping every (step, seconds) it is told, in order."""

    def __init__(self) -> None:
        self.timed: list[tuple[str, float]] = []

    def step_timed(self, step: str, seconds: float) -> None:
        self.timed.append((step, seconds))


class SlowVerifier(Verifier):
    """Takes ``EXCHANGE_SECONDS`` before its stream ends, as if the exchanges were slow to answer."""

    def verify_stream(
        self, requests: Sequence[VerificationRequest]
    ) -> Iterator[tuple[int, VerificationOutcome]]:
        self.verified.extend(requests)
        time.sleep(EXCHANGE_SECONDS)
        yield from ()


EXCHANGE_SECONDS = 0.2


def test_run_once__observer__told_each_step_and_the_exchange_wait_inside_decide(tmp_path: Path) -> None:
    pipeline, _, _, _ = keeper_over(tmp_path, due_binance=0, due_okx=2, posted=0, budget=3)
    pipeline.verifier = SlowVerifier(budget=3)  # type: ignore[assignment]
    pipeline.observer = steps = StepLog()

    pipeline.run_once()

    names = [name for name, _ in steps.timed]
    assert names == ["ingest", EXCHANGE_WAIT, "decide", "post", "pay"]
    seconds = dict(steps.timed)
    assert seconds[EXCHANGE_WAIT] >= EXCHANGE_SECONDS
    assert seconds["decide"] >= seconds[EXCHANGE_WAIT]  # the wait is part of the step


def test_run_once__no_observer__the_same_pass(tmp_path: Path) -> None:
    pipeline, _, _, verifier = keeper_over(tmp_path, due_binance=0, due_okx=2, posted=0, budget=3)

    report = pipeline.run_once()

    assert pipeline.observer is None
    assert [r.order_id for r in verifier.verified] == ["order-1", "order-2"]
    assert report.deferred == [] and report.decided == []
