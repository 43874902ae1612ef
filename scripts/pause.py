"""`ape run pause FLAGS`: the guardian's fast path, no proposal (unpausing is a proposal: `propose unpause`).

    ape run pause claims,payouts --account guardian
    ape run pause all --account guardian

FLAGS: the contract's PAUSE_* names (claims, verifications, payouts, withdrawals, deposits, all) or a number.
"""

from __future__ import annotations

from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from operator_toolkit.cli_options import account_option, guard_context
from operator_toolkit.cli_output import console
from operator_toolkit.context import GuardContext
from operator_toolkit.governance import send
from operator_toolkit.units import format_flags, parse_flags


@click.command(cls=ConnectedProviderCommand, short_help="Pause operations now (guardian)")
@account_option()
@guard_context
@click.argument("flags")
def cli(account: Any, ctx: GuardContext, flags: str) -> None:
    mask = parse_flags(flags, ctx.flags)
    before = int(ctx.guard.pausedFlags())
    receipt = send(ctx, ctx.guard.pause, mask, sender=account)
    after = int(ctx.guard.pausedFlags())
    console.print(
        f"Paused {format_flags(mask, ctx.flags)}: paused flags {format_flags(before, ctx.flags)} -> "
        f"{format_flags(after, ctx.flags)}. Tx {receipt.txn_hash}"
    )
