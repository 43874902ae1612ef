"""`ape run report`: JSON and CSV numbers equal the chain's, the PNG charts are valid images."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.cli import RunCli
from support.pool import BINANCE, CHALLENGE_PERIOD, EVIDENCE, OKX, POOL_FUNDS, USDT, ClaimFiler, Governance

from keeper.store import ClaimRecord as KeeperClaim
from keeper.store import SqliteStore

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def history(
    guard: Any,
    gov: Governance,
    file_claim: ClaimFiler,
    validator: Any,
    guardian: Any,
    stranger: Any,
    other_trader: Any,
    chain: Any,
) -> dict[str, int]:
    """Paid, rejected, vetoed and pending claims, and a withdrawal."""
    paid = file_claim(1_000 * USDT)
    guard.postVerification(paid, True, 800 * USDT, EVIDENCE, 0, sender=validator)
    rejected = file_claim(500 * USDT)
    guard.postVerification(rejected, False, 0, EVIDENCE, 1, sender=validator)
    vetoed = file_claim(700 * USDT, by=other_trader, exchange=BINANCE, instrument="BTCUSDT")
    guard.postVerification(vetoed, True, 600 * USDT, EVIDENCE, 0, sender=validator)
    guard.vetoClaim(vetoed, 100, sender=guardian)
    chain.pending_timestamp += CHALLENGE_PERIOD
    chain.mine()
    guard.executePayout(paid, sender=stranger)
    pending = file_claim(300 * USDT, exchange=OKX)
    gov(guard.withdraw, stranger, 1_000 * USDT)
    return {"paid": paid, "rejected": rejected, "vetoed": vetoed, "pending": pending}


def _keeper_db(path: Path, guard: Any, claim_id: int, chain: Any) -> Path:
    """A keeper database (keeper/store.py) that saw `claim_id` and deferred it after an exchange timeout."""
    store = SqliteStore(path)
    logs = guard.LiquidationClaimed.range(0, int(chain.blocks.height) + 1)
    first = next(e for e in logs if int(e.claimId) == claim_id)
    record = KeeperClaim(
        claim_id=claim_id,
        user=str(first.user),
        exchange=int(first.exchange),
        account_ref="0x" + bytes(first.accountRef).hex(),
        order_id=str(first.orderId),
        instrument=str(first.instrument),
        claimed_loss=int(first.claimedLoss),
        block_number=int(first.block_number),
        log_index=int(first.log_index),
    )
    store.record_claims([record], int(first.block_number))
    store.defer(claim_id, "exchange timeout", 0)
    store.close()
    return path


def test_report__json_and_csv__equal_chain(
    run_cli: RunCli, guard: Any, history: dict[str, int], tmp_path: Path, chain: Any
) -> None:
    out = tmp_path / "report"
    db = _keeper_db(tmp_path / "keeper.sqlite", guard, history["pending"], chain)

    result = run_cli("report", "--out", str(out), "--from-block", "0", "--keeper-db", str(db))

    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    claims = {c["claim_id"]: c for c in report["claims"]}
    assert set(claims) == set(history.values())
    for claim_id, claim in claims.items():
        view = guard.getClaim(claim_id)
        assert claim["payout"] == view.payout
        assert claim["claimed_loss"] == view.claimedLoss
        assert ["None", "Pending", "Approved", "Rejected", "Paid"][view.status] == claim["status"]
    assert claims[history["vetoed"]]["reason"] == "guardian_veto"
    assert claims[history["vetoed"]]["vetoed_by"] is not None
    assert claims[history["paid"]]["payout_tx"] is not None
    assert claims[history["pending"]]["keeper"]["state"] == "deferred"
    assert claims[history["pending"]]["keeper"]["last_error"] == "exchange timeout"
    assert report["current"] == {
        "total_assets": guard.totalAssets(),
        "reserved": guard.reservedAmount(),
        "free": guard.freeBalance(),
        "claim_count": guard.claimCount(),
    }
    assert (report["deposited"], report["withdrawn"], report["paid_out"]) == (
        POOL_FUNDS,
        1_000 * USDT,
        800 * USDT,
    )
    policies = {p["user"]: p for p in report["policies"]}
    for user, policy in policies.items():
        view = guard.getPolicy(user)
        assert (policy["coverage_limit"], policy["used"]) == (view.coverageLimit, view.used)
        assert policy["remaining"] == view.coverageLimit - view.used
    assert sum(p["used"] for p in policies.values()) == 800 * USDT  # the paid claim; the vetoed one released
    assert report["payout_failures"] == 0
    assert (
        "2 policies, 800 USDT used (paid out + reserved); 0 payout(s) refused by the token" in result.output
    )
    last = report["pool"][-1]
    assert (last["total_assets"], last["reserved"]) == (guard.totalAssets(), guard.reservedAmount())

    with (out / "summary.csv").open() as handle:
        rows = {(r["dimension"], r["key"]): r for r in csv.DictReader(handle)}
    assert rows[("status", "Paid")]["claims"] == "1"
    assert Decimal(rows[("status", "Paid")]["payout"]) * USDT == guard.getClaim(history["paid"]).payout
    assert rows[("status", "Rejected")]["claims"] == "2"
    assert Decimal(rows[("exchange", "okx")]["claimed_loss"]) == Decimal(1_000 + 500 + 300)
    assert rows[("exchange", "binance")]["claims"] == "1"
    assert {k for d, k in rows if d == "reason"} == {"approved", "not_liquidated", "guardian_veto"}


def test_report__charts__valid_png(run_cli: RunCli, history: dict[str, int], tmp_path: Path) -> None:
    result = run_cli("report", "--out", str(tmp_path), "--from-block", "0")

    assert result.exit_code == 0, result.output
    for name in ("verdicts_by_reason.png", "payouts_over_time.png", "pool_balance.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        with Image.open(tmp_path / name) as image:
            image.verify()
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.size[0] > 100 and image.size[1] > 100


def test_report__since_after_everything__empty_but_valid(
    run_cli: RunCli, history: dict[str, int], tmp_path: Path, chain: Any
) -> None:
    since = str(int(chain.pending_timestamp) + 10)

    result = run_cli("report", "--out", str(tmp_path), "--from-block", "0", "--since", since)

    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["claims"] == [] and report["pool"] == [] and report["paid_out"] == 0
    assert (tmp_path / "pool_balance.png").read_bytes().startswith(PNG_SIGNATURE)


def test_report__guard_and_start_block_from_deployment_record(
    run_cli: RunCli, guard: Any, history: dict[str, int], tmp_path: Path
) -> None:
    """No --guard: the proxy comes from deployments/<network>.json, as `ape run deploy` wrote it."""
    records = tmp_path / "deployments"
    records.mkdir()
    (records / "local.json").write_text(json.dumps({"network": "local", "proxy": guard.address, "block": 0}))
    out = tmp_path / "out"

    result = run_cli("report", "--out", str(out), "--deployments-dir", str(records), guard_flag=False)

    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["guard"] == guard.address
    assert len(report["claims"]) == len(history)


def test_report__no_record_no_guard__usage_error(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("report", "--deployments-dir", str(tmp_path), guard_flag=False)
    assert result.exit_code == 2
    assert "no --guard given and no deployment record" in result.output
