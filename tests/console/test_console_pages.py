"""The console's view models, from fixed snapshots: what each page shows, without a server or a browser."""

from __future__ import annotations

from console_fixtures import NOW, TRADER, claim_row, pool_snapshot

from keeper.console.pages import (
    ClaimFilter,
    check_page,
    claims_page,
    keeper_page,
    pool_page,
    time_left,
)
from keeper.console.snapshots import KeeperSnapshot
from keeper.evidence_bundle import CheckReport, CheckStep
from keeper.interface import ClaimStatus, Exchange
from keeper.store import ClaimRecord, ClaimState, StoredTransaction, TxKind

DECIMALS = 6


def test_pool_page__balances__exact_token_units() -> None:
    page = pool_page(pool_snapshot(), DECIMALS)

    assert (page.total, page.reserved, page.free) == ("1,000.5", "250", "750.5")


def test_pool_page__daily_usage__percent_of_limit_capped_and_zero_without_limit() -> None:
    page = pool_page(pool_snapshot(), DECIMALS)

    assert [(u.label, u.used, u.limit, u.percent) for u in page.today] == [
        ("Withdrawals today", "0", "0", 0),
        ("Payouts today", "50", "200", 25),
        ("Approvals today", "300", "200", 100),
    ]


def test_pool_page__pause_bits__paused_shows_unpause_proposal_running_shows_pause() -> None:
    page = pool_page(pool_snapshot(paused_flags=4), DECIMALS)

    assert [(bit.name, bit.paused) for bit in page.pause] == [
        ("claims", False),
        ("verifications", False),
        ("payouts", True),
        ("withdrawals", False),
        ("deposits", False),
    ]
    assert page.pause[2].command == "ape run propose unpause payouts --account <your-account>"
    assert page.pause[0].command == "ape run pause claims --account <your-account>"


def test_time_left__hours_minutes_seconds__same_text_as_the_countdown_script() -> None:
    assert [time_left(s) for s in (7_509, 241, 9, 0, -5)] == ["2h 05m 09s", "4m 01s", "9s", "0s", "0s"]


def test_claims_page__approval_in_window__listed_first_least_time_left_first() -> None:
    rows = [
        claim_row(1, ClaimStatus.REJECTED),
        claim_row(2, ClaimStatus.APPROVED, payable_at=NOW + 3_000),
        claim_row(3, ClaimStatus.APPROVED, payable_at=NOW + 60),
        claim_row(4, ClaimStatus.APPROVED, payable_at=NOW - 1),  # window closed: payable now
        claim_row(5, ClaimStatus.PAID),
    ]

    page = claims_page(rows, NOW, DECIMALS, ClaimFilter())

    assert [(line.claim_id, line.time_left) for line in page.in_window] == [(3, "1m 00s"), (2, "50m 00s")]
    assert [line.claim_id for line in page.others] == [5, 4, 1]
    assert page.others[1].time_left == ""


def test_claims_page__filters__status_exchange_and_trader_case_insensitive() -> None:
    other = "0x" + "ef" * 20
    rows = [
        claim_row(1, ClaimStatus.REJECTED, exchange=Exchange.BINANCE),
        claim_row(2, ClaimStatus.REJECTED, exchange=Exchange.OKX, user=other),
        claim_row(3, ClaimStatus.PAID, exchange=Exchange.OKX),
    ]

    by_status = claims_page(rows, NOW, DECIMALS, ClaimFilter(status="rejected"))
    by_exchange = claims_page(rows, NOW, DECIMALS, ClaimFilter(exchange="OKX"))
    by_trader = claims_page(rows, NOW, DECIMALS, ClaimFilter(trader=TRADER.upper().replace("0X", "0x")))

    assert [line.claim_id for line in by_status.others] == [2, 1]
    assert [line.claim_id for line in by_exchange.others] == [3, 2]
    assert [line.claim_id for line in by_trader.others] == [3, 1]


def _review(claim_id: int, entered_at: int) -> ClaimRecord:
    return claim_row(claim_id, ClaimStatus.PENDING, state=ClaimState.MANUAL_REVIEW).record.model_copy(
        update={"review_entered_at": entered_at}
    )


def test_keeper_page__review_queue_oldest_first_with_age_and_cursor_lag() -> None:
    snapshot = KeeperSnapshot(
        head=120,
        cursor=100,
        counts={"posted": 3, "manual_review": 2},
        in_review=[_review(8, NOW - 60), _review(7, NOW - 3_700)],
        transactions=[
            StoredTransaction(
                tx_hash="0x01", kind=TxKind.VERIFY, claim_ids=[1, 2], status="ok", gas_used=90_000
            ),
            StoredTransaction(tx_hash="0x02", kind=TxKind.PAYOUT, claim_ids=[1], status="ok"),
        ],
    )

    page = keeper_page(snapshot, NOW)

    assert page.lag == "20"
    assert [(item.claim_id, item.age) for item in page.review] == [(7, "1h 01m 40s"), (8, "1m 00s")]
    assert dict(page.counts)["posted"] == 3 and dict(page.counts)["recorded"] == 0
    assert [(tx.tx_hash, tx.claims, tx.gas_used) for tx in page.transactions] == [
        ("0x02", "1", ""),
        ("0x01", "1, 2", "90,000"),
    ]


def test_keeper_page__no_cursor_yet__lag_unknown() -> None:
    snapshot = KeeperSnapshot(head=5, cursor=None, counts={}, in_review=[], transactions=[])

    assert keeper_page(snapshot, NOW).lag == "unknown"


def test_check_page__a_step_disagrees__summary_names_the_failed_steps() -> None:
    report = CheckReport(
        claim_id=4,
        steps=[
            CheckStep(step="bundle", ok=True, detail="3 raw answers, claim 4"),
            CheckStep(step="hash", ok=False, detail="re-derived 0x01 != 0x02"),
            CheckStep(step="chain", ok=False, detail="no ClaimVerified event for this claim"),
        ],
    )

    page = check_page(4, report)

    assert (page.ok, page.summary) == (False, "disagrees: hash, chain")
    assert [(line.step, line.ok) for line in page.steps] == [
        ("bundle", True),
        ("hash", False),
        ("chain", False),
    ]
