"""Driving the in-contract multisig: propose a call, collect confirmations, execute."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def encode_multicall(guard: Any, calls: Sequence[tuple[Any, tuple[Any, ...]]]) -> bytes:
    """Calldata of `guard.multicall([...])` running several governance calls in one proposal."""
    encoded = [bytes(method.encode_input(*args)) for method, args in calls]
    return bytes(guard.multicall.encode_input(encoded))


def propose(guard: Any, data: bytes, proposer: Any, *, target: Any = None, value: int = 0) -> int:
    """Proposes `data` (to `target`, default the guard itself) as `proposer`; returns the proposal id."""
    return int(guard.propose(target or guard, value, data, sender=proposer).return_value)


def confirm_and_execute(guard: Any, proposal_id: int, signers: Sequence[Any]) -> Any:
    """Confirms with the `threshold - 1` signers after signers[0] (the proposer's confirmation is implied)
    and executes as signers[0]; returns the execute receipt."""
    for signer in signers[1 : int(guard.threshold())]:
        guard.confirm(proposal_id, sender=signer)
    return guard.execute(proposal_id, sender=signers[0])


def propose_confirm_execute(guard: Any, data: bytes, signers: Sequence[Any], *, target: Any = None) -> Any:
    """Proposes `data` (to `target`, default the guard itself) as signers[0], confirms with the next
    `threshold - 1` signers, executes as signers[0], and returns the execute receipt."""
    return confirm_and_execute(guard, propose(guard, data, signers[0], target=target), signers)


@dataclass
class Governance:
    """Runs calls as governance through a proposal: propose (signers[0]), confirm (up to the threshold),
    execute. ``gov(guard.setChallengePeriod, 3_600)`` is one governance call; used by the tests, the
    benchmarks and the demo alike."""

    guard: Any
    signers: list[Any]

    def propose(self, call: Any, *args: Any, target: Any = None, value: int = 0) -> int:
        """Proposes ``call(*args)`` (an empty call when ``call`` is None); returns the proposal id."""
        data = call.encode_input(*args) if call is not None else b""
        return propose(self.guard, data, self.signers[0], target=target, value=value)

    def execute(self, call: Any, *args: Any, target: Any = None) -> Any:
        """Proposes, confirms and executes; returns the execute receipt."""
        return confirm_and_execute(self.guard, self.propose(call, *args, target=target), self.signers)

    def __call__(self, call: Any, *args: Any) -> Any:
        return self.execute(call, *args)

    def set_daily_payout_limit(self, limit: int) -> Any:
        """Sets the daily payout limit, first lowering maxPayoutPerClaim to it if needed (the contract keeps
        maxPayoutPerClaim <= dailyPayoutLimit), in one multicall proposal."""
        guard = self.guard
        calls = []
        if int(guard.maxPayoutPerClaim()) > limit:
            calls.append(guard.setMaxPayoutPerClaim.encode_input(limit))
        calls.append(guard.setDailyPayoutLimit.encode_input(limit))
        return self.execute(guard.multicall, calls)
