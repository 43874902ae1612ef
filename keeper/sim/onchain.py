"""Puts generated scenarios on chain: one whitelisted trader per claim, each filed at its generated time.

Filing a claim at exactly the scenario's ``submitted_at`` makes the on-chain claim the generated one, so the
generator's expected verdict applies unchanged. The generator must be anchored after the chain's clock
(``generator.ANCHOR_SECONDS``): on chain, coverage starts at whitelisting and time only moves forward.
Used by ``make demo``, the keeper's end-to-end tests and the benchmarks; ape objects are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile

GAS_MONEY_WEI = 10**17


def fileable(expected: ExpectedVerdict) -> bool:
    """The contract refuses a zero coverage limit, a claim above remaining coverage or after coverage ends."""
    claim = expected.claim
    loss, remaining = int(claim["claimed_loss"]), int(claim["remaining_coverage"])
    return 0 < loss <= remaining and int(claim["submitted_at"]) <= int(claim["coverage_end"])


def pick_claims(
    scenarios: ScenarioFile, count: int, first: Iterable[str] = (), after: int = 0
) -> list[ExpectedVerdict]:
    """Up to ``count`` fileable claims submitted after ``after``: the earliest of each scenario named in
    ``first``, then the earliest others; sorted by submission time, no two at the same second."""
    candidates = sorted(
        (e for e in scenarios.expected if fileable(e) and e.claim["submitted_at"] > after),
        key=lambda e: (e.claim["submitted_at"], e.claim["claim_id"]),
    )
    chosen: dict[int, ExpectedVerdict] = {}
    for name in first:
        match = next((e for e in candidates if e.scenario == name), None)
        if match is not None:
            chosen[match.claim["claim_id"]] = match
    for e in candidates:
        if len(chosen) >= count:
            break
        chosen.setdefault(e.claim["claim_id"], e)
    picked: list[ExpectedVerdict] = []
    seen_times: set[int] = set()
    for e in sorted(chosen.values(), key=lambda e: e.claim["submitted_at"]):
        if e.claim["submitted_at"] not in seen_times:  # one block per second on the chain's clock
            seen_times.add(e.claim["submitted_at"])
            picked.append(e)
    return picked[:count]


@dataclass
class FiledClaim:
    expected: ExpectedVerdict
    trader: Any
    claim_id: int


class ClaimSeeder:
    """Whitelists one fresh trader per generated claim and files the claims in time order."""

    def __init__(self, chain: Any, guard: Any, registrar: Any, funder: Any, accounts: Any) -> None:
        self.chain = chain
        self.guard = guard
        self.registrar = registrar
        self.funder = funder
        self.accounts = accounts

    def whitelist(self, picked: Sequence[ExpectedVerdict]) -> dict[int, Any]:
        """Generator claim id -> a funded trader whitelisted with that claim's coverage."""
        traders: dict[int, Any] = {}
        for expected in picked:
            claim = expected.claim
            trader = self.accounts.generate_test_account()
            self.funder.transfer(trader, GAS_MONEY_WEI)
            self.guard.addToWhitelist(
                [trader],
                [bytes.fromhex(claim["account_ref"][2:])],
                claim["remaining_coverage"],
                claim["coverage_end"],
                sender=self.registrar,
            )
            traders[claim["claim_id"]] = trader
        return traders

    def file(self, expected: ExpectedVerdict, trader: Any) -> FiledClaim:
        claim = expected.claim
        self.chain.pending_timestamp = claim["submitted_at"]
        receipt = self.guard.submitClaim(
            claim["exchange"], claim["order_id"], claim["instrument"], claim["claimed_loss"], sender=trader
        )
        return FiledClaim(expected, trader, int(receipt.return_value))
