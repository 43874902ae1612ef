"""The console's view models, from fixed snapshots: what each page shows, without a server or a browser."""

from __future__ import annotations

from support.console import NOW, TRADER, claim_row, pool_snapshot, proposal_snapshot

from keeper.console.health import health_from, read_health
from keeper.console.pages import (
    ClaimFilter,
    check_page,
    claims_page,
    health_line,
    keeper_page,
    pool_page,
    proposals_page,
    time_left,
)
from keeper.console.server import free_port
from keeper.console.snapshots import KeeperSnapshot, ProposalsSnapshot
from keeper.evidence_bundle import CheckReport, CheckStep
from keeper.interface import ClaimStatus, Exchange
from keeper.store import ClaimRecord, ClaimState, StoredTransaction, TxKind
from operator_toolkit.units import format_timestamp

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


def test_proposals_page__open_oldest_first__closed_newest_first__scanned_range() -> None:
    snapshot = ProposalsSnapshot(
        now=NOW,
        count=4,
        proposals=[
            proposal_snapshot(1, "executed", confirmations=2, ready_at=NOW - 900),
            proposal_snapshot(2, "pending"),
            proposal_snapshot(3, "cancelled"),
            proposal_snapshot(4, "scheduled", confirmations=2, ready_at=NOW + 7_200),
        ],
    )

    page = proposals_page(snapshot)

    assert [line.proposal_id for line in page.open] == [2, 4]
    assert [line.proposal_id for line in page.closed] == [3, 1]
    assert page.scanned == "#1-#4 of 4"
    assert page.open[1].seconds_left == 7_200 and page.open[0].seconds_left is None
    assert (page.open[1].confirmations, page.open[1].ready_at) == ("2/2", format_timestamp(NOW + 7_200))
    assert page.open[0].ready_at == "not scheduled"


def test_proposals_page__commands__what_each_state_allows_next() -> None:
    states = ("pending", "unscheduled", "scheduled", "ready", "executed", "expired")
    snapshot = ProposalsSnapshot(
        now=NOW,
        count=6,
        proposals=[proposal_snapshot(pid, state) for pid, state in enumerate(states, start=1)],
    )

    page = proposals_page(snapshot)

    run = "ape run proposals {} {} --account <your-account>"
    by_id = {line.proposal_id: line.commands for line in [*page.open, *page.closed]}
    assert by_id[1] == [
        "ape run proposals show 1",
        run.format("confirm", 1),
        run.format("revoke", 1),
        run.format("cancel", 1),
    ]
    assert by_id[2] == ["ape run proposals show 2", run.format("schedule", 2), run.format("cancel", 2)]
    assert by_id[3] == ["ape run proposals show 3", run.format("cancel", 3)]
    assert by_id[4] == ["ape run proposals show 4", run.format("execute", 4)]
    assert by_id[5] == by_id[6] == []


def test_proposals_page__would_revert_now__refusal_shown_without_effect() -> None:
    refusal = "DailyLimitExceeded(requested=30,000 USDT, remaining=20,000 USDT)"
    snapshot = ProposalsSnapshot(
        now=NOW, count=1, proposals=[proposal_snapshot(1, "ready", ready_at=NOW, refusal=refusal)]
    )

    line = proposals_page(snapshot).open[0]

    assert (line.refusal, line.effect, line.seconds_left) == (refusal, [], None)


def test_proposals_page__no_proposal_yet__scanned_none() -> None:
    page = proposals_page(ProposalsSnapshot(now=NOW, count=0, proposals=[]))

    assert (page.scanned, page.open, page.closed) == ("none yet", [], [])


KEEPER_URL = "http://127.0.0.1:9464"
METRICS = """# TYPE keeper_passes_total counter
keeper_passes_total 41.0
# TYPE keeper_pass_errors_total counter
keeper_pass_errors_total{error="ConnectionError"} 2.0
keeper_pass_errors_total{error="TimeoutError"} 1.0
# TYPE keeper_last_pass_timestamp_seconds gauge
keeper_last_pass_timestamp_seconds 1.8e+09
"""


def test_health_from__healthy_keeper__last_pass_age_on_the_console_clock() -> None:
    health = health_from(KEEPER_URL, NOW + 75, '{"ok": true, "problems": [], "head": 9}', METRICS)

    line = health_line(health)

    assert (health.passes, health.pass_errors, health.last_pass_at) == (41, 3, float(NOW))
    assert (line.state, line.last_pass) == ("healthy", f"{format_timestamp(NOW)} (1m 15s ago)")


def test_health_from__unhealthy_answer__its_problems_listed() -> None:
    body = '{"ok": false, "problems": ["no pass has completed for 912s"], "head": 9}'

    line = health_line(health_from(KEEPER_URL, NOW, body, METRICS))

    assert (line.state, line.problems) == ("unhealthy", ["no pass has completed for 912s"])


def test_health_from__not_the_keepers_answer__a_problem_not_a_crash() -> None:
    line = health_line(health_from(KEEPER_URL, NOW, "<html>proxy error</html>", ""))

    assert line.state == "unhealthy"
    assert line.problems == ["not a keeper health answer: '<html>proxy error</html>'"]
    assert (line.last_pass, line.passes) == ("unknown", "unknown")


def test_read_health__nobody_listening__not_answering_with_the_reason() -> None:
    port = free_port()  # bound and released: nothing listens there now

    line = health_line(read_health(f"http://127.0.0.1:{port}"))

    assert line.state == "not answering"
    assert line.problems[0].startswith("no answer: ")
