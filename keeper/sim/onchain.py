"""Puts generated scenarios on chain: one whitelisted trader per claim, each filed at its generated time.

Filing a claim at exactly the scenario's ``submitted_at`` makes the on-chain claim the generated one, so the
generator's expected verdict applies unchanged. The generator must be anchored after the chain's clock
(the generator's anchor): on chain, coverage starts at whitelisting and time only moves forward.
Contract 1.1 binds an exchange account (``accountRef``) to one trader at a time, and each claim's trader gets
that claim's own coverage, so ``pick_claims`` takes at most one claim per account. ``pool_limit_calls`` are
the governance calls that open a fresh 1.1 pool, in an order its setters accept.
Used by ``make demo``, the keeper's end-to-end tests and the benchmarks; ape objects are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from keeper.interface import Exchange
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile

GAS_MONEY_WEI = 10**17
USDT = 10**6


@dataclass(frozen=True)
class PoolLimits:
    """What the seeded pools allow (token units). Every limit of a fresh pool is 0 (closed)."""

    daily_withdrawal_limit: int = 20_000 * USDT
    daily_payout_limit: int = 50_000 * USDT
    max_payout_per_claim: int = 5_000 * USDT
    daily_approval_limit: int = 60_000 * USDT
    max_coverage_limit: int = 50_000 * USDT


def pool_limit_calls(guard: Any, limits: PoolLimits = PoolLimits()) -> list[tuple[Any, tuple[Any, ...]]]:
    """(method, args) of the setters that open a pool, for one multicall proposal. Ordered for 1.1:
    ``setDailyPayoutLimit`` before ``setMaxPayoutPerClaim`` (the cap may not exceed the daily limit)."""
    return [
        (guard.setDailyWithdrawalLimit, (limits.daily_withdrawal_limit,)),
        (guard.setDailyPayoutLimit, (limits.daily_payout_limit,)),
        (guard.setMaxPayoutPerClaim, (limits.max_payout_per_claim,)),
        (guard.setDailyApprovalLimit, (limits.daily_approval_limit,)),
        (guard.setMaxCoverageLimit, (limits.max_coverage_limit,)),
    ]


class SharedAccountRefError(ValueError):
    """Two picked claims name one exchange account: on chain it can be bound to one trader at a time."""

    def __init__(self, account_ref: str, claim_ids: Sequence[int]) -> None:
        super().__init__(
            f"claims {list(claim_ids)} share accountRef {account_ref}; pick one claim per account"
        )
        self.account_ref = account_ref
        self.claim_ids = list(claim_ids)


def fileable(expected: ExpectedVerdict) -> bool:
    """The contract refuses a zero coverage limit, a claim above remaining coverage or after coverage ends."""
    claim = expected.claim
    loss, remaining = int(claim["claimed_loss"]), int(claim["remaining_coverage"])
    return 0 < loss <= remaining and int(claim["submitted_at"]) <= int(claim["coverage_end"])


def pick_claims(
    scenarios: ScenarioFile, count: int, first: Iterable[str] = (), after: int = 0
) -> list[ExpectedVerdict]:
    """Up to ``count`` fileable claims submitted after ``after``, at most one per accountRef: the earliest of
    each scenario named in ``first``, then the earliest others; sorted by submission time, no two at the same
    second."""
    candidates = sorted(
        (e for e in scenarios.expected if fileable(e) and e.claim["submitted_at"] > after),
        key=lambda e: (e.claim["submitted_at"], e.claim["claim_id"]),
    )
    chosen: dict[int, ExpectedVerdict] = {}
    refs: set[str] = set()

    def take(e: ExpectedVerdict) -> None:
        chosen[e.claim["claim_id"]] = e
        refs.add(e.claim["account_ref"])

    for name in first:
        match = next(
            (e for e in candidates if e.scenario == name and e.claim["account_ref"] not in refs), None
        )
        if match is not None:
            take(match)
    for e in candidates:
        if len(chosen) >= count:
            break
        if e.claim["claim_id"] not in chosen and e.claim["account_ref"] not in refs:
            take(e)
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
        by_ref: dict[str, list[int]] = {}
        for expected in picked:
            by_ref.setdefault(expected.claim["account_ref"], []).append(expected.claim["claim_id"])
        for ref, ids in by_ref.items():
            if len(ids) > 1:
                raise SharedAccountRefError(ref, ids)
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
            Exchange.from_slug(claim["exchange"]),
            claim["order_id"],
            claim["instrument"],
            claim["claimed_loss"],
            sender=trader,
        )
        return FiledClaim(expected, trader, int(receipt.return_value))
