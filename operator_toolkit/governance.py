"""Signer-side flows over the in-contract multisig: preview a call, propose it, read the proposal queue.

The queue is read from the chain itself (`proposalCount`, `getProposal`, `hasConfirmed`), never from an
off-chain copy that could drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ape.exceptions import ApeException
from eth_utils.crypto import keccak

from operator_toolkit.cli_output import console, fail, quiet_traces, table
from operator_toolkit.context import GuardContext
from operator_toolkit.decode import decode_call, describe_call, describe_error, format_decoded
from operator_toolkit.simulate import Simulation, SimulationRefusedError, dry_run, simulate
from operator_toolkit.units import format_countdown, format_timestamp


class ProposalState(StrEnum):
    PENDING = "pending"
    """Fewer than `threshold` current signers confirmed."""
    UNSCHEDULED = "unscheduled"
    """Threshold met but never scheduled (e.g. the threshold was lowered): `proposals schedule ID`."""
    SCHEDULED = "scheduled"
    """Waiting out the execution delay until `readyAt`; a guardian may cancel it meanwhile."""
    READY = "ready"
    """Executable now."""
    EXECUTED = "executed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


OPEN_STATES = frozenset(
    {ProposalState.PENDING, ProposalState.UNSCHEDULED, ProposalState.SCHEDULED, ProposalState.READY}
)


@dataclass(frozen=True)
class ProposalInfo:
    proposal_id: int
    target: str
    data: bytes
    value: int
    proposer: str
    expires_at: int
    confirmations: int
    threshold: int
    confirmed_by: list[str]
    state: ProposalState
    ready_at: int
    """0 until the proposal first reached its threshold, then when it becomes executable."""
    now: int
    """The chain time the state was judged at (the pending block's timestamp)."""

    @property
    def data_hash(self) -> str:
        """keccak256 of the proposal's calldata, 0x-hex: what a hardware wallet's blind-signing screen or an
        independent decoder can be checked against."""
        return "0x" + keccak(self.data).hex()

    @property
    def countdown(self) -> str:
        return format_countdown(self.ready_at, self.now)

    @property
    def ready_text(self) -> str:
        """`2026-11-26 12:00:00 UTC (ready in 47h 59m)`, or `not scheduled`."""
        if self.ready_at == 0:
            return self.countdown
        return f"{format_timestamp(self.ready_at)} ({self.countdown})"


def preview(ctx: GuardContext, data: bytes, heading: str) -> Simulation:
    """Prints the decoded call and its simulated effect; raises a one-line failure if it would revert."""
    console.print(f"[bold]{heading}[/]")
    for line in describe_call(ctx, decode_call(ctx, data)):
        console.print(f"  {line}")
    try:
        with quiet_traces():
            simulation = simulate(ctx, data, decode_call(ctx, data))
    except SimulationRefusedError as refused:
        raise fail(f"refused, the call would revert: {refused.reason}") from None
    if simulation.changes:
        table("Effect if executed now", ("", "before", "after"), simulation.changes)
    else:
        console.print("  (no change to the pool, limits, pause flags, signers or roles read here)")
    return simulation


def send(ctx: GuardContext, method: Any, *args: Any, sender: Any) -> Any:
    """Sends a transaction to the guard, after a dry run of it from `sender` on the pending block: one that
    would revert is refused with its decoded custom error (exit 1) and nothing is signed or sent. The call is
    printed before ape asks to sign it, and ape's prompts ("Sign:", the keystore passphrase) stay on the
    terminal; only ape's call-trace dump is muted."""
    data = bytes(method.encode_input(*args))
    try:
        dry_run(ctx, str(sender.address), data)
    except SimulationRefusedError as refused:
        raise fail(refused.reason) from None
    call = format_decoded(ctx, decode_call(ctx, data))
    console.print(f"Transaction from {sender.address} to {ctx.guard.address}: {call}")
    try:
        with quiet_traces():
            return method(*args, sender=sender)
    # Reverts, refused signatures, node errors: one line. A bug of ours stays a traceback.
    except ApeException as error:
        raise fail(describe_error(ctx, error)) from None


def proposal_info(ctx: GuardContext, proposal_id: int, now: int) -> ProposalInfo:
    guard = ctx.guard
    view = guard.getProposal(proposal_id)
    threshold = int(guard.threshold())
    confirmed_by = [str(s) for s in guard.getSigners() if guard.hasConfirmed(proposal_id, s)]
    ready_at = int(view.readyAt)
    # The contract's order in `execute`: open, then threshold (re-checked), then readyAt.
    if view.executed:
        state = ProposalState.EXECUTED
    elif view.cancelled:
        state = ProposalState.CANCELLED
    elif now >= int(view.expiresAt):
        state = ProposalState.EXPIRED
    elif int(view.confirmations) < threshold:
        state = ProposalState.PENDING
    elif ready_at == 0:
        state = ProposalState.UNSCHEDULED
    elif now < ready_at:
        state = ProposalState.SCHEDULED
    else:
        state = ProposalState.READY
    return ProposalInfo(
        proposal_id=proposal_id,
        target=str(view.target),
        data=bytes(view.data),
        value=int(view.value),
        proposer=str(view.proposer),
        expires_at=int(view.expiresAt),
        confirmations=int(view.confirmations),
        threshold=threshold,
        confirmed_by=confirmed_by,
        state=state,
        ready_at=ready_at,
        now=now,
    )
