"""`ape run claim`: a covered trader files a liquidation claim, or checks one.

    ape run claim file --exchange okx --order-id 612345678901234567 --instrument BTC-USDT-SWAP \
        --loss "1200 USDT" --account trader
    ape run claim status 1

A claim the contract would refuse (no policy, outside coverage plus its grace period, over the remaining
coverage, an order of this exchange account already claimed, an order id outside [A-Za-z0-9-_] or an
instrument not upper-case [A-Z0-9-_], claims paused) is refused before signing, with the decoded custom error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from keeper.interface import require_instrument, require_order_id
from operator_toolkit.cli_options import (
    account_option,
    claim_input,
    claim_logs,
    guard_context,
    positive_amount,
)
from operator_toolkit.cli_output import console, fail, table
from operator_toolkit.context import GuardContext
from operator_toolkit.governance import send
from operator_toolkit.labels import CLAIM_STATUSES, EXCHANGES, exchange_name, reason_name
from operator_toolkit.units import format_timestamp


@click.group(short_help="File a liquidation claim, or show one")
def cli() -> None:
    """Liquidation claims of covered traders."""


@cli.command("file", cls=ConnectedProviderCommand)
@account_option()
@guard_context
@click.option("--exchange", type=click.Choice(sorted(EXCHANGES), case_sensitive=False), required=True)
@click.option(
    "--order-id",
    required=True,
    callback=claim_input(require_order_id),
    help="The exchange's id of the order.",
)
@click.option(
    "--instrument",
    required=True,
    callback=claim_input(require_instrument),
    help="Upper-case, e.g. BTC-USDT-SWAP (OKX) or BTCUSDT (Binance).",
)
@click.option(
    "--loss", required=True, callback=positive_amount, help='The loss claimed, more than 0, e.g. "1200 USDT".'
)
def file_claim(
    account: Any, ctx: GuardContext, exchange: str, order_id: str, instrument: str, loss: str
) -> None:
    """File a claim for a liquidated order."""
    amount = ctx.amount(loss)
    exchange_id = EXCHANGES[exchange.lower()]
    receipt = send(ctx, ctx.guard.submitClaim, exchange_id, order_id, instrument, amount, sender=account)
    event = receipt.decode_logs(ctx.guard.LiquidationClaimed)[0]
    console.print(
        f"Claim #{event.claimId} filed: {exchange} order {order_id} ({instrument}), loss {ctx.fmt(amount)}. "
        f"Tx {receipt.txn_hash}"
    )


@cli.command("status", cls=ConnectedProviderCommand)
@guard_context
@click.argument("claim_id", type=click.IntRange(min=1))
def status(network: Any, ctx: GuardContext, deployments_dir: Path, claim_id: int) -> None:
    """A claim's status, payout and reason."""
    if claim_id > int(ctx.guard.claimCount()):
        raise fail(f"no claim #{claim_id} (there are {ctx.guard.claimCount()})")
    claim = ctx.guard.getClaim(claim_id)
    state = CLAIM_STATUSES[int(claim.status)]
    decided = int(claim.decidedAt)
    exchange = exchange_name(int(claim.exchange))
    filed = claim_logs(ctx, network.name, deployments_dir, claim_id)
    rows = [
        ["trader", str(claim.user)],
        ["exchange", exchange],
        ["order id", str(filed.orderId) if filed else "-"],
        ["instrument", str(filed.instrument) if filed else "-"],
        ["status", state],
        ["claimed loss", ctx.fmt(int(claim.claimedLoss))],
        ["payout", ctx.fmt(int(claim.payout))],
        ["submitted", format_timestamp(int(claim.submittedAt))],
        ["decided", format_timestamp(decided) if decided else "-"],
        ["reason", reason_name(int(claim.reasonCode)) if decided else "-"],
    ]
    payable_at = int(claim.payableAt)
    if payable_at:
        # Stamped at approval: the veto window closes and payment opens then.
        rows.append(["payable from", format_timestamp(payable_at)])
    table(f"Claim #{claim_id}", ("", ""), rows)
