"""The console's reads: the pool through the keeper's ``ChainClient`` and the keeper's store. Nothing here
writes: the client is built without a sender, and the store is only queried."""

from __future__ import annotations

from typing import Protocol

from keeper.chain import ChainClient
from keeper.console.health import read_health
from keeper.console.snapshots import (
    ClaimDetailSnapshot,
    ClaimRow,
    KeeperSnapshot,
    PoolSnapshot,
    ProposalSnapshot,
    ProposalsSnapshot,
)
from keeper.evidence_bundle import (
    CheckReport,
    CheckStep,
    build_bundle,
    chain_step,
    check_bundle,
    with_chain,
)
from keeper.policy import PolicyParams
from keeper.store import ClaimState, Store, StoreError, UnknownClaimError
from operator_toolkit.cli_output import quiet_traces
from operator_toolkit.context import GuardContext
from operator_toolkit.decode import decode_call, describe_call
from operator_toolkit.governance import OPEN_STATES, ProposalInfo, proposal_info
from operator_toolkit.report import PoolPoint, pool_history
from operator_toolkit.simulate import AMOUNT_VIEWS, DURATION_VIEWS, SimulationRefusedError, simulate

POOL_VIEWS = ("asset", *AMOUNT_VIEWS, *DURATION_VIEWS, "pausedFlags", "getSigners", "threshold")
PROPOSAL_SCAN = 25
"""Proposals read per page, newest first: each costs a few calls (the view, one ``hasConfirmed`` per signer,
and an open one's simulation). Older ones: ``ape run proposals list --all --last N``."""


class ConsoleSource(Protocol):
    """What the pages read; the app depends on this only (tests may hand it a fixed one)."""

    def now(self) -> int: ...
    def pool(self) -> PoolSnapshot: ...
    def claim_rows(self) -> list[ClaimRow]: ...
    def claim_detail(self, claim_id: int) -> ClaimDetailSnapshot | None: ...
    def keeper(self) -> KeeperSnapshot: ...
    def recheck(self, claim_id: int) -> CheckReport | None: ...
    def proposals(self) -> ProposalsSnapshot: ...
    def pool_history(self) -> list[PoolPoint]: ...


class LiveSource:
    """The chain (``ChainClient``, read-only) and the store, read afresh on every request."""

    def __init__(
        self,
        chain: ChainClient,
        store: Store,
        governance: GuardContext,
        rpc_url: str,
        fallback_policy: PolicyParams,
        from_block: int = 0,
        keeper_url: str | None = None,
    ) -> None:
        self._chain = chain
        self._store = store
        self._governance = governance
        """The pool as the signers' scripts see it (``ape run proposals``): the same decoding and
        simulation."""
        self._address = str(governance.guard.address)
        self._rpc_url = rpc_url
        self._fallback_policy = fallback_policy
        """For a decision stored before schema 3 (no policy with it): today's settings, as ``evidence
        export`` does."""
        self._from_block = from_block
        self._keeper_url = keeper_url
        """Where the keeper daemon serves ``/healthz`` and ``/metrics`` (None: not shown)."""
        self._history: tuple[int, list[PoolPoint]] | None = None
        """The pool's history read up to a head block: read again only when the chain moved on."""

    @property
    def governance(self) -> GuardContext:
        return self._governance

    def now(self) -> int:
        return self._chain.now()

    def pool(self) -> PoolSnapshot:
        v = self._chain.views(POOL_VIEWS)
        return PoolSnapshot(
            address=self._address,
            asset=str(v["asset"]),
            total_assets=int(v["totalAssets"]),
            reserved=int(v["reservedAmount"]),
            free=int(v["freeBalance"]),
            withdrawn_today=int(v["withdrawnToday"]),
            paid_out_today=int(v["paidOutToday"]),
            approved_today=int(v["approvedToday"]),
            daily_withdrawal_limit=int(v["dailyWithdrawalLimit"]),
            daily_payout_limit=int(v["dailyPayoutLimit"]),
            daily_approval_limit=int(v["dailyApprovalLimit"]),
            max_payout_per_claim=int(v["maxPayoutPerClaim"]),
            max_coverage_limit=int(v["maxCoverageLimit"]),
            challenge_period=int(v["challengePeriod"]),
            claim_grace_period=int(v["claimGracePeriod"]),
            paused_flags=int(v["pausedFlags"]),
            signers=[str(signer) for signer in v["getSigners"]],
            threshold=int(v["threshold"]),
            execution_delay=int(v["executionDelay"]),
            proposal_lifetime=int(v["proposalLifetime"]),
        )

    def claim_rows(self) -> list[ClaimRow]:
        records = self._store.claims_in_state(*ClaimState)
        views = self._chain.claims([record.claim_id for record in records]) if records else {}
        return [ClaimRow(record=record, chain=views.get(record.claim_id)) for record in records]

    def claim_detail(self, claim_id: int) -> ClaimDetailSnapshot | None:
        try:
            record = self._store.claim(claim_id)
        except UnknownClaimError:
            return None
        row = ClaimRow(record=record, chain=self._chain.claim(claim_id))
        return ClaimDetailSnapshot(row=row, decision=self._store.decision(claim_id))

    def keeper(self) -> KeeperSnapshot:
        counts = self._store.count_by_state()
        return KeeperSnapshot(
            head=self._chain.head(),
            cursor=self._store.cursor(),
            counts={state.value: count for state, count in counts.items()},
            in_review=self._store.in_review(),
            transactions=self._store.transactions(),
            health=None if self._keeper_url is None else read_health(self._keeper_url),
        )

    def recheck(self, claim_id: int) -> CheckReport | None:
        """``keeper evidence export`` then ``keeper evidence check --rpc --guard`` of one claim, in process:
        the stored answers re-parsed, the policy re-run, the record and hash recomputed and compared with
        the claim's latest ``ClaimVerified``. None: no decision stored for the claim."""
        # Imported here: it loads web3's contract machinery, needed only when someone asks for a check.
        from keeper.evidence_bundle import claim_verified

        stored = self._store.decision(claim_id)
        if stored is None:
            return None
        policy = stored.policy if stored.policy is not None else self._fallback_policy
        try:
            answers = self._store.answers(claim_id)
        except StoreError as exc:
            # The store checks each answer's bytes against the sha256 kept beside them and gives out none
            # that changed: the answers step fails before a bundle exists (``evidence export`` exits there).
            failed = CheckStep(step="answers", ok=False, detail=str(exc))
            return CheckReport(claim_id=claim_id, steps=[failed])
        bundle = build_bundle(claim_id, stored.decision, stored.canonical_record, answers, policy)
        report = check_bundle(bundle)
        on_chain = claim_verified(self._rpc_url, self._address, claim_id)
        return with_chain(report, chain_step(str(bundle["evidence_hash"]), on_chain))

    def proposals(self) -> ProposalsSnapshot:
        """The newest ``PROPOSAL_SCAN`` proposals, judged at the chain's latest block time."""
        guard = self._governance.guard
        now = self.now()
        count = int(guard.proposalCount())
        first = max(1, count - PROPOSAL_SCAN + 1)
        infos = [proposal_info(self._governance, pid, now) for pid in range(first, count + 1)]
        return ProposalsSnapshot(now=now, count=count, proposals=[self._proposal(info) for info in infos])

    def _proposal(self, info: ProposalInfo) -> ProposalSnapshot:
        call = decode_call(self._governance, info.data)
        effect: list[tuple[str, str, str]] = []
        refusal = None
        if info.state in OPEN_STATES:
            try:
                with quiet_traces():
                    effect = simulate(self._governance, info.data, call).changes
            except SimulationRefusedError as refused:
                refusal = refused.reason
        return ProposalSnapshot(
            proposal_id=info.proposal_id,
            actions=describe_call(self._governance, call),
            proposer=info.proposer,
            confirmed_by=info.confirmed_by,
            confirmations=info.confirmations,
            threshold=info.threshold,
            state=info.state.value,
            ready_at=info.ready_at,
            expires_at=info.expires_at,
            data_hash=info.data_hash,
            effect=effect,
            refusal=refusal,
        )

    def pool_history(self) -> list[PoolPoint]:
        """The pool at each of its events since ``from_block``, and at the head (the chart runs to now)."""
        head = self._chain.head()
        if self._history is None or self._history[0] != head:
            guard = self._governance.guard
            points = pool_history(guard, guard.chain_manager, self._from_block, head)
            if not points or points[-1].block != head:
                pool = self._chain.views(("totalAssets", "reservedAmount"))
                now = PoolPoint(head, self.now(), [], int(pool["totalAssets"]), int(pool["reservedAmount"]))
                points.append(now)
            self._history = (head, points)
        return self._history[1]
