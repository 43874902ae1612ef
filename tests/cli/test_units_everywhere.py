"""Units and pictures: token amounts with their symbol, exchanges by name, raw proposal fields for hardware
wallets, ape's account prompt, keeper verify's amounts, and chart axes taken from the data."""

from __future__ import annotations

import json
import re
from typing import Any

import click
import pytest
from click.testing import CliRunner
from eth_utils.crypto import keccak
from support.cli import RunCli
from support.pool import USDT

from keeper.cli.verify import _base_units
from operator_toolkit.charts import payouts_figure, pool_figure
from operator_toolkit.cli_options import AccountChoice
from operator_toolkit.context import GuardContext, load_context
from operator_toolkit.decode import decode_call, format_decoded
from operator_toolkit.report import ClaimRecord, PoolPoint, Report
from operator_toolkit.units import require_positive_amount_text

T0 = 1_780_000_000  # 2026-05-28
DAY_SECONDS = 86_400


@pytest.fixture
def ctx(project: Any, guard: Any) -> GuardContext:
    return load_context(project, guard.address)


def test_format_decoded__submit_claim__exchange_by_name_amount_with_symbol(
    ctx: GuardContext, guard: Any
) -> None:
    data = bytes(guard.submitClaim.encode_input(1, "ord-1", "BTC-USDT-SWAP", 1_200 * USDT))
    assert format_decoded(ctx, decode_call(ctx, data)) == (
        "submitClaim(exchange=okx, orderId=ord-1, instrument=BTC-USDT-SWAP, claimedLoss=1,200 USDT)"
    )


def test_proposals_show__raw_target_value_calldata_and_hash(
    run_cli: RunCli, guard: Any, signers: list[Any]
) -> None:
    data = bytes(guard.setMaxPayoutPerClaim.encode_input(4_000 * USDT))
    proposal_id = int(guard.propose(guard, 0, data, sender=signers[0]).return_value)

    result = run_cli("proposals", "show", str(proposal_id))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"raw target   {guard.address}" in lines
    assert "raw value    0 wei" in lines
    assert f"raw calldata 0x{data.hex()}" in lines
    assert f"calldata keccak256 0x{keccak(data).hex()}" in lines


def test_account_prompt__no_account__test_accounts_range_not_a_literal(accounts: Any) -> None:
    @click.command()
    def show() -> None:
        AccountChoice().print_choices()

    output = CliRunner().invoke(show, []).output

    assert f"'TEST::account_idx', where `account_idx` is in [0..{len(accounts) - 1}]" in output
    assert "{len_test_accounts}" not in output


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1200 USDT", 1_200 * USDT), ("1,200.5 USDT", 1_200_500_000), ("1200000000", 1_200 * USDT)],
)
def test_keeper_verify_claimed_loss__token_amount_or_base_units(text: str, expected: int) -> None:
    assert _base_units(text, 6, "--claimed-loss") == expected


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("1200", None),  # base units: fine
        (
            "12.5",
            "--claimed-loss '12.5' is neither a token amount like '1200 USDT' nor base units like 1200000000",
        ),
        ("-5 USDT", "--claimed-loss '-5 USDT' is not an amount like '2500 USDT' or '0.5'"),
        ("1.0000001 USDT", "--claimed-loss '1.0000001 USDT' has more than 6 decimals (USDT has 6)"),
    ],
)
def test_keeper_verify_claimed_loss__malformed__exit_2_names_value(
    text: str, detail: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if detail is None:
        assert _base_units(text, 6, "--claimed-loss") == 1200
        return
    with pytest.raises(SystemExit) as exited:
        _base_units(text, 6, "--claimed-loss")
    assert exited.value.code == 2
    assert json.loads(capsys.readouterr().out) == {"error": "invalid_input", "detail": detail}


@pytest.mark.parametrize(
    ("text", "ok"), [("0.000001", True), ("0", False), ("0.00 USDT", False), ("-1", False)]
)
def test_require_positive_amount_text(text: str, ok: bool) -> None:
    if ok:
        assert require_positive_amount_text(text) == text
    else:
        with pytest.raises(click.BadParameter, match=re.escape(repr(text))):
            require_positive_amount_text(text)


def _report(**fields: Any) -> Report:
    return Report(guard="0x0", token="0x0", symbol="USDT", decimals=6, from_block=0, to_block=0, since=None,
                  until=None, **fields)  # fmt: skip


def _claim(claim_id: int, payout: int, paid_at: int) -> ClaimRecord:
    return ClaimRecord(
        claim_id=claim_id, user="0x0", exchange="okx", order_id="o", instrument="BTC-USDT-SWAP",
        account_ref="0x", claimed_loss=payout, status="Paid", payout=payout, reason_code=0,
        reason="approved", submitted_at=paid_at - 7_200, decided_at=paid_at - 3_600, paid_at=paid_at,
        validator=None, evidence_hash=None, vetoed_by=None, claim_tx="0x", payout_tx="0x",
    )  # fmt: skip


def test_payouts_chart__one_payout__axes_around_it_from_zero() -> None:
    figure = payouts_figure(_report(claims=[_claim(3, 1_000 * USDT, T0)]))
    axes = figure.axes[0]

    left, right = axes.get_xlim()
    assert left < T0 / DAY_SECONDS < right
    assert right - left <= 2 / 24  # hours around it, not matplotlib's years around a lone date
    assert axes.get_ylim() == pytest.approx((0, 1_100))
    assert [text.get_text() for text in axes.texts] == ["#3"]


def test_payouts_chart__spread_payouts__x_spans_them_y_reaches_total() -> None:
    claims = [_claim(1, 800 * USDT, T0), _claim(2, 200 * USDT, T0 + 10 * DAY_SECONDS)]
    axes = payouts_figure(_report(claims=claims)).axes[0]

    left, right = axes.get_xlim()
    assert left < T0 / DAY_SECONDS and right > T0 / DAY_SECONDS + 10
    assert right - left < 12  # days
    assert axes.get_ylim() == pytest.approx((0, 1_100))


def test_pool_chart__withdrawal_of_2500__visible_in_the_y_range() -> None:
    pool = [
        PoolPoint(block=1, timestamp=T0, events=["Deposited"], total_assets=100_000 * USDT, reserved=0),
        PoolPoint(block=2, timestamp=T0 + 600, events=["Withdrawn"], total_assets=97_500 * USDT, reserved=0),
        PoolPoint(block=3, timestamp=T0 + 900, events=["ClaimVerified"], total_assets=97_500 * USDT,
                  reserved=800 * USDT),
    ]  # fmt: skip
    axes = pool_figure(_report(pool=pool)).axes[0]

    bottom, top = axes.get_ylim()
    assert 0 < bottom < 96_700 and top > 100_000
    assert 2_500 / (top - bottom) > 0.5  # the withdrawal is most of the height, not 2.5% of it
    left, right = axes.get_xlim()
    assert left < T0 / DAY_SECONDS and right > (T0 + 900) / DAY_SECONDS and right - left < 1 / 12
    assert [text.get_text() for text in axes.texts] == ["Deposited", "Withdrawn", "ClaimVerified"]
