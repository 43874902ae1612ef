"""Driving the in-contract multisig: propose a call, collect confirmations, execute."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def encode_multicall(guard: Any, calls: Sequence[tuple[Any, tuple[Any, ...]]]) -> bytes:
    """Calldata of `guard.multicall([...])` running several governance calls in one proposal."""
    encoded = [bytes(method.encode_input(*args)) for method, args in calls]
    return bytes(guard.multicall.encode_input(encoded))


def propose_confirm_execute(guard: Any, data: bytes, signers: Sequence[Any], *, target: Any = None) -> Any:
    """Proposes `data` (to `target`, default the guard itself) as signers[0], confirms with the next
    `threshold - 1` signers, executes as signers[0], and returns the execute receipt."""
    proposer = signers[0]
    proposal_id = int(guard.propose(target or guard, 0, data, sender=proposer).return_value)
    for signer in signers[1 : int(guard.threshold())]:
        guard.confirm(proposal_id, sender=signer)
    return guard.execute(proposal_id, sender=proposer)
