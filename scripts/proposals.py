"""`ape run proposals`: the multisig's queue, read from the chain, and the signer actions on it.

    ape run proposals [list] [--all]     id, decoded action, confirmations x/threshold and who, readyAt
                                with a countdown ("ready in 47h 59m", "ready", "not scheduled"), expiry, state
    ape run proposals show ID                   the decoded call and its simulated effect if executed now
    ape run proposals confirm|revoke|schedule|execute|cancel ID --account signer2

A proposal becomes executable `executionDelay` after it first reaches its threshold (the confirmation that
reaches it schedules it; `schedule` does it for one that reached it otherwise, e.g. after the threshold was
lowered). `confirm` and `execute` print what is being approved first and re-simulate it: a proposal that would
revert now is refused before anything is signed, with the decoded custom error; `execute` before `readyAt` is
refused with `ProposalNotReady` and nothing is sent. During the delay a guardian may `cancel` it.
"""

from __future__ import annotations

from typing import Any

import click
from ape import chain
from ape.cli import ConnectedProviderCommand

from operator_toolkit.cli_options import account_option, guard_context
from operator_toolkit.cli_output import CommandFailed, console, fail, table
from operator_toolkit.context import GuardContext
from operator_toolkit.decode import decode_call, describe_call
from operator_toolkit.governance import OPEN_STATES, ProposalInfo, ProposalState, preview, proposal_info, send
from operator_toolkit.units import format_duration, format_timestamp

COLUMNS = ("id", "action", "confirmations", "ready at", "expires", "state")


class ListByDefault(click.Group):
    """`ape run proposals [--network …]` alone lists the open proposals."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] != "--help"):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group(
    cls=ListByDefault, short_help="List, show, confirm, revoke, schedule, execute or cancel proposals"
)
def cli() -> None:
    """The LeverageGuard multisig proposals, as the chain has them."""


def _info(ctx: GuardContext, proposal_id: int) -> ProposalInfo:
    count = int(ctx.guard.proposalCount())
    if not 1 <= proposal_id <= count:
        raise fail(f"UnknownProposal(proposalId={proposal_id}): there are {count} proposals")
    return proposal_info(ctx, proposal_id, int(chain.pending_timestamp))


def _row(ctx: GuardContext, info: ProposalInfo) -> list[str]:
    who = ", ".join(a[:10] + "…" for a in info.confirmed_by)
    return [
        str(info.proposal_id),
        "\n".join(describe_call(ctx, decode_call(ctx, info.data))),
        f"{info.confirmations}/{info.threshold} ({who})" if who else f"0/{info.threshold}",
        info.ready_text if info.state in OPEN_STATES else _closed_ready(info),
        format_timestamp(info.expires_at),
        info.state.value,
    ]


def _closed_ready(info: ProposalInfo) -> str:
    return format_timestamp(info.ready_at) if info.ready_at else "-"


@cli.command("list", cls=ConnectedProviderCommand)
@guard_context
@click.option("--all", "show_all", is_flag=True, help="Also executed, cancelled and expired proposals.")
@click.option("--last", type=click.IntRange(min=1), default=50, show_default=True, help="Proposals scanned.")
def list_proposals(ctx: GuardContext, show_all: bool, last: int) -> None:
    """Open proposals (all with --all) among the last --last, newest last."""
    count = int(ctx.guard.proposalCount())
    # Each proposal costs a few calls (view + one hasConfirmed per signer): bound the scan.
    infos = [_info(ctx, pid) for pid in range(max(1, count - last + 1), count + 1)]
    rows = [_row(ctx, i) for i in infos if show_all or i.state in OPEN_STATES]
    table(f"Proposals of {ctx.guard.address}", COLUMNS, rows)
    if not rows:
        console.print("No open proposals." if not show_all else "No proposals.")
    console.print(f"execution delay {format_duration(int(ctx.guard.executionDelay()))}")


@cli.command("show", cls=ConnectedProviderCommand)
@guard_context
@click.argument("proposal_id", type=click.IntRange(min=1))
def show(ctx: GuardContext, proposal_id: int) -> None:
    """One proposal in full, with its effect if executed now."""
    info = _info(ctx, proposal_id)
    table(f"Proposal #{proposal_id}", COLUMNS, [_row(ctx, info)])
    console.print(f"proposer {info.proposer}; confirmed by {', '.join(info.confirmed_by) or 'nobody'}")
    console.print(f"readyAt {info.ready_at}: {info.ready_text}")
    # The raw proposal, to check against a hardware wallet or an independent decoder.
    console.print(f"raw target   {info.target}")
    console.print(f"raw value    {info.value} wei")
    console.print(f"raw calldata 0x{info.data.hex()}")
    console.print(f"calldata keccak256 {info.data_hash}")
    if info.state in OPEN_STATES:
        preview(ctx, info.data, "Calls:")


def _require_open(info: ProposalInfo) -> None:
    if info.state == ProposalState.EXECUTED:
        raise fail(f"ProposalAlreadyExecuted(proposalId={info.proposal_id})")
    if info.state == ProposalState.CANCELLED:
        raise fail(f"ProposalAlreadyCancelled(proposalId={info.proposal_id})")
    if info.state == ProposalState.EXPIRED:
        expired = format_timestamp(info.expires_at)
        raise fail(
            f"ProposalExpired(proposalId={info.proposal_id}, expiresAt={info.expires_at}) at {expired}"
        )


def _threshold_met(info: ProposalInfo) -> None:
    if info.confirmations < info.threshold:
        have, need = info.confirmations, info.threshold
        raise fail(f"ThresholdNotMet(proposalId={info.proposal_id}, have={have}, need={need})")


def _require_ready(info: ProposalInfo) -> None:
    """What `execute` would revert with, checked in the contract's order, before anything is signed."""
    _require_open(info)
    _threshold_met(info)
    if info.state is ProposalState.READY:
        return
    error = f"ProposalNotReady(proposalId={info.proposal_id}, readyAt={info.ready_at})"
    if info.ready_at == 0:
        raise fail(f"{error}: not scheduled; run `ape run proposals schedule {info.proposal_id}` first")
    raise fail(f"{error}: {info.ready_text}")


def _schedule_line(info: ProposalInfo) -> str:
    return f"ready at {info.ready_text}" if info.ready_at else "not scheduled"


@cli.command("confirm", cls=ConnectedProviderCommand)
@account_option()
@guard_context
@click.option(
    "--anyway", is_flag=True, help="Confirm even if executing it now would revert (e.g. to run later)."
)
@click.argument("proposal_id", type=click.IntRange(min=1))
def confirm(account: Any, ctx: GuardContext, anyway: bool, proposal_id: int) -> None:
    """Confirm a proposal after seeing what it does."""
    info = _info(ctx, proposal_id)
    _require_open(info)
    try:
        preview(ctx, info.data, f"You are confirming proposal #{proposal_id}:")
    except CommandFailed as refused:
        # A withdrawal over today's limit may be fine tomorrow: confirming it is a choice, never a default.
        if not anyway:
            raise fail(f"{refused.message} (pass --anyway to confirm it for a later execution)") from None
        console.print(f"[yellow]Warning:[/] {refused.message}; confirming anyway.")
    send(ctx, ctx.guard.confirm, proposal_id, sender=account)
    after = _info(ctx, proposal_id)
    console.print(
        f"Confirmed #{proposal_id}: {after.confirmations}/{after.threshold} confirmations ({after.state}); "
        f"{_schedule_line(after)}."
    )


@cli.command("revoke", cls=ConnectedProviderCommand)
@account_option()
@guard_context
@click.argument("proposal_id", type=click.IntRange(min=1))
def revoke(account: Any, ctx: GuardContext, proposal_id: int) -> None:
    """Withdraw your confirmation."""
    send(ctx, ctx.guard.revokeConfirmation, proposal_id, sender=account)
    after = _info(ctx, proposal_id)
    console.print(f"Revoked on #{proposal_id}: {after.confirmations}/{after.threshold} confirmations.")


@cli.command("schedule", cls=ConnectedProviderCommand)
@account_option()
@guard_context
@click.argument("proposal_id", type=click.IntRange(min=1))
def schedule(account: Any, ctx: GuardContext, proposal_id: int) -> None:
    """Start the execution delay of a proposal that met its threshold without being scheduled."""
    info = _info(ctx, proposal_id)
    _require_open(info)
    if info.ready_at:
        raise fail(
            f"ProposalAlreadyScheduled(proposalId={proposal_id}, readyAt={info.ready_at}): {info.ready_text}"
        )
    _threshold_met(info)
    receipt = send(ctx, ctx.guard.schedule, proposal_id, sender=account)
    after = _info(ctx, proposal_id)
    console.print(f"Scheduled #{proposal_id}: {_schedule_line(after)}. Tx {receipt.txn_hash}")


@cli.command("execute", cls=ConnectedProviderCommand)
@account_option()
@guard_context
@click.argument("proposal_id", type=click.IntRange(min=1))
def execute(account: Any, ctx: GuardContext, proposal_id: int) -> None:
    """Execute a proposal with enough confirmations whose execution delay is over."""
    info = _info(ctx, proposal_id)
    _require_ready(info)
    preview(ctx, info.data, f"Executing proposal #{proposal_id}:")
    receipt = send(ctx, ctx.guard.execute, proposal_id, sender=account)
    console.print(f"Executed #{proposal_id}. Tx {receipt.txn_hash}")


@cli.command("cancel", cls=ConnectedProviderCommand)
@account_option()
@guard_context
@click.argument("proposal_id", type=click.IntRange(min=1))
def cancel(account: Any, ctx: GuardContext, proposal_id: int) -> None:
    """Cancel your own open proposal (as a signer), or, as a guardian, a scheduled one during its delay."""
    info = _info(ctx, proposal_id)
    console.print(f"Cancelling #{proposal_id}: " + "; ".join(describe_call(ctx, decode_call(ctx, info.data))))
    receipt = send(ctx, ctx.guard.cancel, proposal_id, sender=account)
    console.print(f"Cancelled #{proposal_id}. Tx {receipt.txn_hash}")
