"""Which exchange accounts a keeper takes its due claims from, when keepers share one store (PostgreSQL).

A Binance day-window answer (income 30, forceOrders 20 weight, per account and UTC day) serves every claim of
its account and day, but only inside the keeper process that read it (``keeper.exchanges.binance_windows``).
Claims leased by id hand every keeper claims of every account, so each keeper reads every account's days
itself: with three keepers the weight per claim nearly doubled. An *account lease* (``account_leases``: an
owner and an expiry on the database's clock, like a claim's lease) keeps an account's claims with one keeper
while it lives, so its days are read once.

The account lease is a preference, never a guard: who may work on a claim is still its own claim lease
(``SqlStore.lease_due`` and friends), so a claim is decided once whatever happens to account leases. What
``pick_accounts`` decides, per lease call, in this order:

1. the accounts the keeper holds (all their due claims: the keeper sees them together, so one day read
   serves them all, however many its budget admits at a time);
2. accounts nobody holds (or whose holder stopped renewing), oldest claim first, while the keeper has
   fewer than ``limit`` claims: a keeper takes a share of the backlog, not all of it;
3. with nothing from 1-2: one account of the keeper holding the most accounts, if it holds two or more
   (the lease moves; so a keeper that ran out of work relieves one that holds several);
4. with nothing still: the free claims of the other keepers' busiest account, its lease left to its holder
   (so no keeper idles while a backlog is split across fewer accounts than keepers: the claims' day windows
   are then read twice, the cost of finishing sooner).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

AccountKey = tuple[int, str]
"""(exchange, account_ref): an account as the claims name it."""


@dataclass(frozen=True)
class AccountBacklog:
    """One account's due claims, as a lease call finds them."""

    account: AccountKey
    due: int
    """Due claims of the account."""
    leasable: int
    """Those the caller may lease: free, its own, or whose lease lapsed."""
    first_claim_id: int
    """The account's lowest due claim id: free accounts are taken oldest claim first."""


@dataclass(frozen=True)
class AccountPick:
    """What one lease call takes."""

    hold: tuple[AccountKey, ...]
    """The accounts whose lease is the caller's after the call (its others are given up)."""
    steal: AccountKey | None = None
    """Another keeper's account whose free claims the caller leases too, leaving the account's lease to it."""

    @property
    def accounts(self) -> tuple[AccountKey, ...]:
        """Every account whose claims the call leases."""
        return self.hold if self.steal is None else (*self.hold, self.steal)


def pick_accounts(
    owner: str, backlogs: Sequence[AccountBacklog], holders: Mapping[AccountKey, str], limit: int
) -> AccountPick:
    """The accounts ``owner`` leases due claims of (see the module's docstring); ``holders``: the live
    account leases (account -> owner)."""
    mine = [b for b in backlogs if holders.get(b.account) == owner]
    hold = [b.account for b in mine]
    taken = sum(b.leasable for b in mine)
    for backlog in sorted(_free(backlogs, holders), key=lambda b: b.first_claim_id):
        if taken >= limit:
            break
        hold.append(backlog.account)
        taken += backlog.leasable
    if taken:
        return AccountPick(tuple(hold))
    moved = _account_to_take_over(owner, backlogs, holders)
    if moved is not None:
        return AccountPick((*hold, moved))
    busiest = max(
        (b for b in backlogs if b.leasable and holders.get(b.account) not in (None, owner)),
        key=lambda b: (b.leasable, -b.first_claim_id),
        default=None,
    )
    return AccountPick(tuple(hold), None if busiest is None else busiest.account)


def _free(backlogs: Iterable[AccountBacklog], holders: Mapping[AccountKey, str]) -> list[AccountBacklog]:
    return [b for b in backlogs if b.account not in holders and b.leasable]


def _account_to_take_over(
    owner: str, backlogs: Sequence[AccountBacklog], holders: Mapping[AccountKey, str]
) -> AccountKey | None:
    """An account of the keeper holding the most accounts with due claims, if it holds two or more (it keeps
    one): its account with the most claims we may lease."""
    held = Counter(holders[b.account] for b in backlogs if b.account in holders)
    donors = {name: count for name, count in held.items() if name != owner and count >= 2}
    if not donors:
        return None
    most = max(donors.values())
    offered = [b for b in backlogs if b.leasable and donors.get(holders.get(b.account, ""), 0) == most]
    best = max(offered, key=lambda b: (b.leasable, -b.first_claim_id), default=None)
    return None if best is None else best.account
