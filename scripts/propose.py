"""`ape run propose <action> …`: propose one governance action, after showing exactly what it does.

    ape run propose withdraw 0xRecipient "2500 USDT" --account signer1
    ape run propose grant-role validator 0xKeeper --account signer1
    ape run propose unpause claims,payouts --account signer1 --dry-run
    ape run propose set-execution-delay 48h --account signer1
    ape run propose cancel-claim 17 --reason guardian_veto --account signer1

Before anything is signed the action is simulated as if its proposal were executed now (an eth_call from the
guard itself, see operator_toolkit/simulate.py): the decoded call and its effect (balances, limits, roles,
signers: before -> after) are printed, and an action that would revert is refused with the decoded custom
error, exit 1, nothing sent. `--dry-run` stops after the simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from ape import project
from ape.cli import ConnectedProviderCommand

from operator_toolkit.cli_options import ADDRESS, account_option, guard_context
from operator_toolkit.cli_output import console, fail
from operator_toolkit.context import GuardContext
from operator_toolkit.governance import preview, send
from operator_toolkit.units import (
    format_timestamp,
    parse_amount,
    parse_duration,
    parse_flags,
    parse_reason,
    parse_role,
)

F = TypeVar("F", bound=Callable[..., Any])


def proposal_options(function: F) -> F:
    function = click.option("--dry-run", is_flag=True, help="Simulate and print; propose nothing.")(function)
    return account_option()(guard_context(function))


def propose(ctx: GuardContext, account: Any, data: bytes, *, dry_run: bool) -> None:
    guard = ctx.guard
    preview(ctx, data, f"Proposal to LeverageGuard {guard.address}:")
    if dry_run:
        console.print("Dry run: nothing proposed.")
        return
    receipt = send(ctx, guard.propose, guard.address, 0, data, sender=account)
    created = receipt.decode_logs(guard.ProposalCreated)[0]
    scheduled = receipt.decode_logs(guard.ProposalScheduled)
    # With threshold 1 the proposal itself reaches the threshold and is scheduled at once.
    ready = f"ready at {format_timestamp(int(scheduled[0].readyAt))}" if scheduled else "not scheduled yet"
    console.print(
        f"Proposal #{created.proposalId} created by {account.address}: 1/{guard.threshold()} confirmations, "
        f"{ready}, expires {format_timestamp(int(created.expiresAt))}. Tx {receipt.txn_hash}"
    )


def command(name: str, help_text: str) -> Callable[[F], F]:
    def register(function: F) -> F:
        cli.command(name, cls=ConnectedProviderCommand, help=help_text)(proposal_options(function))
        return function

    return register


@click.group(short_help="Propose a governance action (simulated first)")
def cli() -> None:
    """Propose one governance action to the LeverageGuard multisig."""


@command("withdraw", "Withdraw free pool funds to TO (within the daily withdrawal limit).")
@click.argument("to", type=ADDRESS)
@click.argument("amount")
def withdraw(account: Any, ctx: GuardContext, dry_run: bool, to: str, amount: str) -> None:
    propose(ctx, account, bytes(ctx.guard.withdraw.encode_input(to, ctx.amount(amount))), dry_run=dry_run)


def _role_command(name: str, method: str, verb: str) -> None:
    @command(name, f"{verb} ROLE (validator, guardian, registrar, …) for ACCOUNT.")
    @click.argument("role")
    @click.argument("target", metavar="ACCOUNT", type=ADDRESS)
    def run(account: Any, ctx: GuardContext, dry_run: bool, role: str, target: str) -> None:
        role_id = parse_role(role, ctx.roles)
        data = bytes(getattr(ctx.guard, method).encode_input(role_id, target))
        propose(ctx, account, data, dry_run=dry_run)


_role_command("grant-role", "grantRole", "Grant")
_role_command("revoke-role", "revokeRole", "Revoke")


def _address_command(name: str, method: str, help_text: str) -> None:
    @command(name, help_text)
    @click.argument("target", metavar="ADDRESS", type=ADDRESS)
    def run(account: Any, ctx: GuardContext, dry_run: bool, target: str) -> None:
        propose(ctx, account, bytes(getattr(ctx.guard, method).encode_input(target)), dry_run=dry_run)


_address_command("add-signer", "addSigner", "Add a multisig signer.")
_address_command("remove-signer", "removeSigner", "Remove a multisig signer (threshold must still fit).")


def _amount_command(name: str, method: str, help_text: str) -> None:
    @command(name, help_text)
    @click.argument("amount")
    def run(account: Any, ctx: GuardContext, dry_run: bool, amount: str) -> None:
        propose(
            ctx, account, bytes(getattr(ctx.guard, method).encode_input(ctx.amount(amount))), dry_run=dry_run
        )


_amount_command(
    "set-daily-withdrawal-limit", "setDailyWithdrawalLimit", "Most governance may withdraw per day."
)
_amount_command("set-daily-payout-limit", "setDailyPayoutLimit", "The daily payout circuit breaker.")
_amount_command("set-max-payout", "setMaxPayoutPerClaim", "Largest payout one claim may be approved for.")
_amount_command(
    "set-daily-approval-limit", "setDailyApprovalLimit", "The daily approval circuit breaker (the validator)."
)
_amount_command("set-max-coverage", "setMaxCoverageLimit", "Largest coverage limit a policy may be given.")


def _duration_command(name: str, method: str, help_text: str) -> None:
    @command(name, f"{help_text} DURATION like 3600, 90m, 6h, 2d.")
    @click.argument("duration")
    def run(account: Any, ctx: GuardContext, dry_run: bool, duration: str) -> None:
        data = bytes(getattr(ctx.guard, method).encode_input(parse_duration(duration)))
        propose(ctx, account, data, dry_run=dry_run)


_duration_command(
    "set-execution-delay",
    "setExecutionDelay",
    "Delay between a proposal reaching its threshold and becoming executable (this change waits out the "
    "current delay).",
)
_duration_command(
    "set-claim-grace-period", "setClaimGracePeriod", "How long after coverage ends claims may still be filed."
)
_duration_command("set-proposal-lifetime", "setProposalLifetime", "How long new proposals stay executable.")


@command("cancel-claim", "Cancel an approved claim that cannot or should not be paid (releases its reserve).")
@click.argument("claim_id", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Reason code: a number or a name such as guardian_veto.")
def cancel_claim(account: Any, ctx: GuardContext, dry_run: bool, claim_id: int, reason: str) -> None:
    data = bytes(ctx.guard.cancelApprovedClaim.encode_input(claim_id, parse_reason(reason)))
    propose(ctx, account, data, dry_run=dry_run)


@command("reopen-claim", "Reopen a rejected claim for a new verdict (the appeal path): Rejected -> Pending.")
@click.argument("claim_id", type=click.IntRange(min=1))
def reopen_claim(account: Any, ctx: GuardContext, dry_run: bool, claim_id: int) -> None:
    propose(ctx, account, bytes(ctx.guard.reopenClaim.encode_input(claim_id)), dry_run=dry_run)


@command("set-threshold", "Confirmations needed to execute a proposal.")
@click.argument("threshold", type=click.IntRange(min=1))
def set_threshold(account: Any, ctx: GuardContext, dry_run: bool, threshold: int) -> None:
    propose(ctx, account, bytes(ctx.guard.setThreshold.encode_input(threshold)), dry_run=dry_run)


@command("set-challenge-period", "Challenge window between approval and payout (e.g. 3600, 6h, 2d).")
@click.argument("period")
def set_challenge_period(account: Any, ctx: GuardContext, dry_run: bool, period: str) -> None:
    data = bytes(ctx.guard.setChallengePeriod.encode_input(parse_duration(period)))
    propose(ctx, account, data, dry_run=dry_run)


@command("unpause", "Resume paused operations: FLAGS like claims,payouts or all.")
@click.argument("flags")
def unpause(account: Any, ctx: GuardContext, dry_run: bool, flags: str) -> None:
    propose(
        ctx, account, bytes(ctx.guard.unpause.encode_input(parse_flags(flags, ctx.flags))), dry_run=dry_run
    )


@command("upgrade", "Upgrade the proxy to IMPLEMENTATION (UUPS upgradeToAndCall).")
@click.argument("implementation", type=ADDRESS)
@click.option("--call-data", default="0x", help="Calldata run on the new implementation after the upgrade.")
def upgrade(account: Any, ctx: GuardContext, dry_run: bool, implementation: str, call_data: str) -> None:
    data = bytes(ctx.guard.upgradeToAndCall.encode_input(implementation, _hex(call_data, "--call-data")))
    propose(ctx, account, data, dry_run=dry_run)


@command("rescue-token", "Return a stray TOKEN (never the pool asset) to TO; AMOUNT in that token's units.")
@click.argument("token", type=ADDRESS)
@click.argument("to", type=ADDRESS)
@click.argument("amount")
def rescue_token(account: Any, ctx: GuardContext, dry_run: bool, token: str, to: str, amount: str) -> None:
    stray = project.TestUSDT.at(token)  # only the ERC-20 views decimals()/symbol() are used
    units = parse_amount(amount, int(stray.decimals()), str(stray.symbol()))
    propose(ctx, account, bytes(ctx.guard.rescueToken.encode_input(token, to, units)), dry_run=dry_run)


@command("raw", "Propose raw CALLDATA to TARGET (must be the guard) with VALUE wei.")
@click.argument("target", type=ADDRESS)
@click.argument("value", type=click.IntRange(min=0))
@click.argument("calldata")
def raw(account: Any, ctx: GuardContext, dry_run: bool, target: str, value: int, calldata: str) -> None:
    if target != ctx.guard.address or value != 0:
        # The contract would refuse it (InvalidProposalTarget) or the call cannot be simulated faithfully.
        raise fail(f"refused: a proposal may only call the guard {ctx.guard.address} with value 0")
    propose(ctx, account, _hex(calldata, "CALLDATA"), dry_run=dry_run)


def _hex(text: str, name: str) -> bytes:
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not hex", param_hint=name) from None
