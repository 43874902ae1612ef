"""Which claims a keeper works on, when several keepers watch one contract.

- ``Shards`` (each keeper has its own store, e.g. SQLite): ``claimId mod N == i``, plus any claim left
  Pending on chain for ``shard_takeover_seconds`` (its keeper is down).
- ``Leases`` (keepers on several hosts share one PostgreSQL store): a claim is leased to one keeper at a
  time (``SqlStore.lease_due_by_account``), from verification to its verdict on chain. The lease is renewed
  while the keeper works and once more right before each post (``keep``: only claims still ours are posted),
  released when the claim leaves that span, and taken over by another keeper once it lapses. A keeper takes
  the due claims of the exchange accounts it holds (an account lease, renewed with its claim leases), so
  that one keeper reads an account's Binance day windows, once, instead of every keeper reading them all
  (``keeper/store/account_leases.py``: which accounts, and how a keeper out of work relieves a busy one).

A keeper whose lease lapsed mid-work stores and posts nothing for that claim: ``keep``, called before a
group of verdicts is stored and before each batch is sent, renews, and drops what another keeper took.
Between that renewal and the mined transaction the lease is fresh (``seconds`` ahead), and the contract
itself refuses a second verdict (the other keeper then finds the claim no longer Pending and records it as
settled elsewhere), so a lease lost at the worst moment costs gas, never a verdict twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from keeper.chain import ClaimView
from keeper.store import ClaimRecord, ClaimState, Store

if TYPE_CHECKING:
    from keeper.settings import KeeperSettings

log = logging.getLogger(__name__)


class ClaimOwnership(Protocol):
    def due(
        self,
        store: Store,
        now: int,
        limit: int | None = None,
        per_exchange: Mapping[int, int] | None = None,
    ) -> list[ClaimRecord]:
        """The claims due for verification (chain time ``now``) this keeper takes up in this pass: at most
        ``limit``, and ``per_exchange[e]`` of exchange ``e`` (what the pass's budgets can take up), where the
        way of owning claims allows it."""
        ...

    def ours(self, claim: ClaimRecord, view: ClaimView, now: int) -> bool:
        """Whether a claim of ``due`` is ours to verify, given what the chain says of it."""
        ...

    def decided(self, store: Store) -> list[ClaimRecord]:
        """The stored verdicts, not yet on chain, this keeper posts."""
        ...

    def working(self, store: Store) -> None:
        """Called as the keeper makes progress on its claims (often): keeps them ours."""
        ...

    def keep(self, store: Store, claim_ids: Sequence[int]) -> list[int]:
        """Right before posting: which of ``claim_ids`` are still ours (the others are not posted)."""
        ...

    def release(self, store: Store, claim_ids: Sequence[int]) -> None:
        """The keeper will not work on these after all (e.g. no exchange budget left this pass)."""
        ...


@dataclass(frozen=True)
class Shards:
    count: int = 1
    index: int = 0
    takeover_seconds: int = 3600

    def due(
        self,
        store: Store,
        now: int,
        limit: int | None = None,
        per_exchange: Mapping[int, int] | None = None,
    ) -> list[ClaimRecord]:
        return store.due_for_verification(now, limit, per_exchange)

    def ours(self, claim: ClaimRecord, view: ClaimView, now: int) -> bool:
        if claim.claim_id % self.count == self.index:
            return True
        return now - view.submitted_at >= self.takeover_seconds

    def decided(self, store: Store) -> list[ClaimRecord]:
        return store.claims_in_state(ClaimState.DECIDED)

    def working(self, store: Store) -> None:
        pass

    def keep(self, store: Store, claim_ids: Sequence[int]) -> list[int]:
        return list(claim_ids)

    def release(self, store: Store, claim_ids: Sequence[int]) -> None:
        pass


@dataclass(frozen=True)
class LeaseConfig:
    owner: str
    """This keeper's id in the shared store (``LG_KEEPER_ID``; default hostname:pid)."""
    seconds: float = 120.0
    """How long a lease lasts unless renewed: how long a dead keeper's claims wait for another keeper."""
    batch_size: int = 500
    """Claims leased at a time (a pass takes up to this many): a keeper takes a share of a backlog, not
    all of it, so the others have work too."""


def default_keeper_id() -> str:
    """hostname:pid: unique among live keepers; a restarted keeper is a new one (its old leases lapse)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_config(settings: KeeperSettings) -> LeaseConfig | None:
    """Leases when the store is PostgreSQL (several hosts may share it); None (shards) for SQLite."""
    if settings.database_url is None:
        return None
    config = LeaseConfig(
        owner=settings.keeper_id or default_keeper_id(),
        seconds=settings.lease_seconds,
        batch_size=settings.lease_batch_size,
    )
    log.info("claims leased in the shared store as keeper %s, %gs at a time", config.owner, config.seconds)
    if settings.shard_count > 1:
        count = settings.shard_count
        log.warning("LG_SHARD_COUNT=%d is not used with LG_DATABASE_URL: claims are leased", count)
    return config


class Leases:
    """``ClaimOwnership`` by leases in a shared store; ``clock`` (monotonic seconds) paces the renewals."""

    def __init__(self, config: LeaseConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._renewed_at = -float("inf")

    def due(
        self,
        store: Store,
        now: int,
        limit: int | None = None,
        per_exchange: Mapping[int, int] | None = None,
    ) -> list[ClaimRecord]:
        # All due claims of our accounts (up to the lease batch), not ``limit`` / ``per_exchange``: the
        # pipeline notes each as seen, so one day-window read serves every one of them
        # (OrderQuery.known_since_ms). Those that wait for budget are released, but their account stays
        # ours: the next pass leases them again.
        leased = store.lease_due_by_account(
            self.config.owner, now, self.config.seconds, self.config.batch_size
        )
        self._renewed_at = self._clock()
        return leased

    def ours(self, claim: ClaimRecord, view: ClaimView, now: int) -> bool:
        return True  # leased to us by ``due``

    def decided(self, store: Store) -> list[ClaimRecord]:
        return store.lease_decided(self.config.owner, self.config.seconds, self.config.batch_size)

    def working(self, store: Store) -> None:
        # A third of the lease: two renewals may be missed (a slow exchange answer) before it lapses.
        if self._clock() - self._renewed_at >= self.config.seconds / 3:
            store.renew_leases(self.config.owner, self.config.seconds)
            store.renew_account_leases(self.config.owner, self.config.seconds)
            self._renewed_at = self._clock()

    def keep(self, store: Store, claim_ids: Sequence[int]) -> list[int]:
        kept = store.renew_leases(self.config.owner, self.config.seconds, claim_ids)
        lost = sorted(set(claim_ids) - set(kept))
        if lost:
            log.warning("claims %s: our lease lapsed, another keeper took them over; not posting them", lost)
        return kept

    def release(self, store: Store, claim_ids: Sequence[int]) -> None:
        store.release_leases(self.config.owner, claim_ids)
