"""A pure-Python mirror of LeverageGuard 1.1 (pool, policies, claims, appeals, pause, roles, multisig with its
execution delay) for test_stateful.

`GuardModel` re-implements every external function the state machine drives, with the contract's checks in the
contract's order (contracts/LeverageGuard.sol, LeverageGuardAdmin.sol, LeverageGuardBase.sol,
governance/MultisigGovernance.sol). An operation either succeeds (and changes the model) or raises
`ModelRevertError` with the exact custom error name and arguments; `GuardModel.attempt` rolls the model back
on a revert, as the EVM does, so a governance proposal whose inner call fails leaves no trace. Batch functions
record the items they skip, with the contract's reason, in `skips` (the machine compares them with the
`*Skipped` events). The model never touches the chain: the machine compares it with the chain after every
step. Addresses are checksummed strings, bytes32 values are `bytes`.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_utils.crypto import keccak

from keeper.interface import (
    DAY,
    DEFAULT_CLAIM_GRACE_PERIOD,
    MAX_BATCH_SIZE,
    MAX_CHALLENGE_PERIOD,
    MAX_CLAIM_GRACE_PERIOD,
    MAX_EXECUTION_DELAY,
    MAX_INSTRUMENT_LENGTH,
    MAX_ORDER_ID_LENGTH,
    MAX_PROPOSAL_LIFETIME,
    MAX_SIGNERS,
    MIN_CHALLENGE_PERIOD,
    MIN_PROPOSAL_LIFETIME,
    ClaimStatus,
    PauseFlag,
)

HOUR = 3_600
UINT96_MAX = 2**96 - 1
UINT40_MAX = 2**40 - 1
# Plain ints: IntFlag's `~` stays inside the defined bits, the contract's does not.
PAUSE_CLAIMS, PAUSE_VERIFICATIONS, PAUSE_PAYOUTS = (
    int(PauseFlag.CLAIMS),
    int(PauseFlag.VERIFICATIONS),
    int(PauseFlag.PAYOUTS),
)
PAUSE_WITHDRAWALS, PAUSE_DEPOSITS, PAUSE_ALL = (
    int(PauseFlag.WITHDRAWALS),
    int(PauseFlag.DEPOSITS),
    int(PauseFlag.ALL),
)
NONE, PENDING, APPROVED = ClaimStatus.NONE, ClaimStatus.PENDING, ClaimStatus.APPROVED
REJECTED, PAID = ClaimStatus.REJECTED, ClaimStatus.PAID
# The `reason` of VerificationSkipped, PayoutSkipped and VetoSkipped (LeverageGuardBase.SKIP_*).
SKIP_WRONG_STATUS = 1
SKIP_CHALLENGE_WINDOW_OPEN = 2
SKIP_CHALLENGE_WINDOW_OVER = 3
SKIP_USER_BLACKLISTED = 4
SKIP_DAILY_PAYOUT_LIMIT = 5

DEFAULT_ADMIN_ROLE = bytes(32)
VALIDATOR_ROLE = keccak(text="VALIDATOR_ROLE")
GUARDIAN_ROLE = keccak(text="GUARDIAN_ROLE")
REGISTRAR_ROLE = keccak(text="REGISTRAR_ROLE")
ROLES = (DEFAULT_ADMIN_ROLE, VALIDATOR_ROLE, GUARDIAN_ROLE, REGISTRAR_ROLE)

# Each claim status may only move to these (CLAIM-1): Paid is final; Rejected -> Pending is `reopenClaim`, the
# only backward step.
NEXT_STATUSES: dict[int, frozenset[int]] = {
    NONE: frozenset({PENDING}),
    PENDING: frozenset({APPROVED, REJECTED}),
    APPROVED: frozenset({REJECTED, PAID}),
    REJECTED: frozenset({PENDING}),
    PAID: frozenset(),
}


def _reachable(status: int) -> frozenset[int]:
    found: set[int] = set()
    frontier = set(NEXT_STATUSES[status])
    while frontier:
        found |= frontier
        frontier = set().union(*(NEXT_STATUSES[s] for s in frontier)) - found
    return frozenset(found)


# Statuses reachable by any sequence of transactions: one rule may send several (submit, approve, pay).
REACHABLE_STATUSES: dict[int, frozenset[int]] = {status: _reachable(status) for status in NEXT_STATUSES}

# A governance action: the contract function's name and its arguments, as the proposal's calldata holds them.
# `("multicall", (actions,))` holds a tuple of actions.
Action = tuple[str, tuple[Any, ...]]
# A claim's key: (exchange, accountRef, instrument, orderId).
OrderKey = tuple[int, bytes, str, str]

_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_ANY_CASE = _UPPER | frozenset("abcdefghijklmnopqrstuvwxyz")


def is_token(value: str, max_length: int, *, lower_case: bool) -> bool:
    """LeverageGuard._isToken: 1 to `max_length` bytes of `[A-Z0-9-_]`, plus `[a-z]` if `lower_case`."""
    raw = value.encode()
    if not 1 <= len(raw) <= max_length:
        return False
    allowed = _ANY_CASE if lower_case else _UPPER
    return all(chr(byte) in allowed for byte in raw)


def only_revokes_guardians(action: Action) -> bool:
    """LeverageGuardAdmin._onlyRevokesGuardians on the action's calldata: revokeRole(GUARDIAN_ROLE, x), or a
    non-empty multicall of nothing else."""
    name, args = action
    if name == "revokeRole":
        return bool(args[0] == GUARDIAN_ROLE)
    if name == "multicall":
        actions = args[0]
        return bool(actions) and all(a[0] == "revokeRole" and a[1][0] == GUARDIAN_ROLE for a in actions)
    return False


class ModelRevertError(Exception):
    """The contract would revert with custom error `name(*args)`. `known_bug` names the property of a known
    contract bug on this path: the chain shows the bug's outcome instead (see test_stateful.KNOWN_BUGS)."""

    def __init__(self, name: str, *args: Any, known_bug: str | None = None) -> None:
        super().__init__(name, args)
        self.name = name
        self.args_: tuple[Any, ...] = args
        self.known_bug = known_bug

    @property
    def signature(self) -> tuple[str, tuple[Any, ...]]:
        return (self.name, self.args_)


@dataclass
class ModelPolicy:
    account_ref: bytes = bytes(32)
    coverage_limit: int = 0
    coverage_start: int = 0
    coverage_end: int = 0
    # Paid out + reserved, over all terms.
    used: int = 0
    whitelisted: bool = False
    blacklisted: bool = False


@dataclass
class ModelClaim:
    user: str
    exchange: int
    status: int
    claimed_loss: int
    payout: int
    submitted_at: int
    decided_at: int = 0
    reason_code: int = 0
    payable_at: int = 0
    # Ghosts: the cap in force when approved (CLAIM-3); whether the claim was reopened since its last verdict.
    approval_cap: int = 0
    reopened: bool = False


@dataclass
class ModelProposal:
    action: Action
    proposer: str
    created_at: int
    expires_at: int
    executed: bool = False
    cancelled: bool = False
    confirmations: dict[str, int] = field(default_factory=dict)
    # Ghost: block time of the execution (MS-4).
    executed_at: int | None = None
    ready_at: int = 0
    # Ghost: scheduled under a non-zero execution delay.
    delayed: bool = False


@dataclass
class GuardModel:
    """LeverageGuard's state as the contract should hold it, plus ghost totals for the invariants."""

    address: str
    now: int
    implementation: str
    implementation_versions: dict[str, str]
    balance: int = 0
    token_balances: dict[str, int] = field(default_factory=dict)
    reserved: int = 0
    paused_flags: int = 0
    daily_withdrawal_limit: int = 0
    daily_payout_limit: int = 0
    daily_approval_limit: int = 0
    max_payout_per_claim: int = 0
    max_coverage_limit: int = 0
    challenge_period: int = 0
    claim_grace_period: int = DEFAULT_CLAIM_GRACE_PERIOD
    withdrawal_day: int = 0
    withdrawn_in_day: int = 0
    payout_day: int = 0
    paid_in_day: int = 0
    approval_day: int = 0
    approved_in_day: int = 0
    policies: dict[str, ModelPolicy] = field(default_factory=dict)
    claims: list[ModelClaim] = field(default_factory=list)
    claim_by_order: dict[OrderKey, int] = field(default_factory=dict)
    account_ref_holder: dict[bytes, str] = field(default_factory=dict)
    role_members: dict[bytes, set[str]] = field(default_factory=dict)
    signers: list[str] = field(default_factory=list)
    signer_epoch: dict[str, int] = field(default_factory=dict)
    last_epoch: int = 0
    threshold: int = 0
    proposal_lifetime: int = 7 * DAY
    execution_delay: int = 0
    proposals: list[ModelProposal] = field(default_factory=list)
    # Ghosts (yearn-style): what went in and out through the contract's own functions.
    total_deposited: int = 0
    total_withdrawn: int = 0
    total_paid: int = 0
    paid_claim_ids: list[int] = field(default_factory=list)
    withdrawals: list[tuple[int, int, int]] = field(default_factory=list)  # (day, amount, limit in force)
    payouts: list[tuple[int, int, int]] = field(default_factory=list)  # (day, amount, limit in force)
    approvals: list[tuple[int, int, int]] = field(default_factory=list)  # (day, amount, limit in force)
    # (event name, claim id, reason) of every skipped batch item, in emission order.
    skips: list[tuple[str, int, int]] = field(default_factory=list)
    # Reachability notes of successful transactions ("model: ..."), drained by the machine.
    notes: Counter[str] = field(default_factory=Counter)

    # ------------------------------------------------------------------ running operations

    def attempt(self, operation: Callable[..., Any], *args: Any) -> ModelRevertError | None:
        """Runs `operation` (a bound method of this model); on a revert restores the state and returns it."""
        saved = copy.deepcopy(self.__dict__)
        try:
            operation(*args)
        except ModelRevertError as revert:
            self.__dict__.update(saved)
            return revert
        return None

    def call_as_governance(self, action: Action) -> None:
        name, args = action
        GOVERNANCE_OPERATIONS[name](self, self.address, *args)

    # ------------------------------------------------------------------ views

    def policy(self, user: str) -> ModelPolicy:
        return self.policies.setdefault(user, ModelPolicy())

    def claim(self, claim_id: int) -> ModelClaim | None:
        return self.claims[claim_id - 1] if 1 <= claim_id <= len(self.claims) else None

    def claim_status(self, claim_id: int) -> int:
        claim = self.claim(claim_id)
        return claim.status if claim is not None else NONE

    def free_balance(self) -> int:
        return max(self.balance - self.reserved, 0)

    def remaining_coverage(self, user: str) -> int:
        policy = self.policy(user)
        return max(policy.coverage_limit - policy.used, 0)

    def claim_deadline(self, user: str) -> int:
        return self.policy(user).coverage_end + self.claim_grace_period

    def today(self) -> int:
        return self.now // DAY

    def withdrawn_today(self, at: int) -> int:
        return self.withdrawn_in_day if self.withdrawal_day == at // DAY else 0

    def paid_out_today(self, at: int) -> int:
        return self.paid_in_day if self.payout_day == at // DAY else 0

    def approved_today(self, at: int) -> int:
        return self.approved_in_day if self.approval_day == at // DAY else 0

    def has_role(self, role: bytes, account: str) -> bool:
        return account in self.role_members.get(role, set())

    def is_signer(self, account: str) -> bool:
        return self.signer_epoch.get(account, 0) != 0

    def has_confirmed(self, proposal_id: int, signer: str) -> bool:
        epoch = self.signer_epoch.get(signer, 0)
        proposal = self.proposals[proposal_id - 1]
        return epoch != 0 and proposal.confirmations.get(signer) == epoch

    def confirmation_count(self, proposal_id: int) -> int:
        return sum(1 for signer in self.signers if self.has_confirmed(proposal_id, signer))

    def max_execution_delay(self) -> int:
        return min(self.proposal_lifetime - MIN_PROPOSAL_LIFETIME, MAX_EXECUTION_DELAY)

    def version(self) -> str:
        return self.implementation_versions[self.implementation]

    # ------------------------------------------------------------------ guards

    def _when_not_paused(self, flag: int) -> None:
        if self.paused_flags & flag:
            raise ModelRevertError("OperationPaused", flag)

    def _only_governance(self, sender: str) -> None:
        if sender != self.address:
            raise ModelRevertError("OnlyGovernance", sender)

    def _only_role_or_governance(self, sender: str, role: bytes) -> None:
        if sender != self.address and not self.has_role(role, sender):
            raise ModelRevertError("Unauthorized", sender)

    def _only_role(self, sender: str, role: bytes) -> None:
        if not self.has_role(role, sender):
            raise ModelRevertError("AccessControlUnauthorizedAccount", sender, role)

    def _only_signer(self, sender: str) -> None:
        if not self.is_signer(sender):
            raise ModelRevertError("NotSigner", sender)

    @staticmethod
    def _check_batch(length: int) -> None:
        if length == 0:
            raise ModelRevertError("EmptyBatch")
        if length > MAX_BATCH_SIZE:
            raise ModelRevertError("BatchTooLarge", length, MAX_BATCH_SIZE)

    @staticmethod
    def _check_pause_flags(flags: int) -> None:
        if flags == 0 or flags & ~PAUSE_ALL:
            raise ModelRevertError("InvalidPauseFlags", flags)

    @staticmethod
    def _to_uint96(amount: int) -> int:
        if amount > UINT96_MAX:
            raise ModelRevertError("AmountTooLarge", amount, UINT96_MAX)
        return amount

    # ------------------------------------------------------------------ pool

    def deposit(self, sender: str, amount: int) -> None:
        self._when_not_paused(PAUSE_DEPOSITS)
        if amount == 0:
            raise ModelRevertError("ZeroAmount")
        self.token_balances[sender] -= amount
        self.balance += amount
        self.total_deposited += amount

    def withdraw(self, sender: str, to: str, amount: int) -> None:
        self._only_governance(sender)
        self._when_not_paused(PAUSE_WITHDRAWALS)
        if int(to, 16) == 0:
            raise ModelRevertError("ZeroAddress")
        if amount == 0:
            raise ModelRevertError("ZeroAmount")
        free = self.free_balance()
        if amount > free:
            raise ModelRevertError("InsufficientFreeBalance", amount, free)
        used = self.withdrawn_today(self.now)
        limit = self.daily_withdrawal_limit
        if used + amount > limit:
            # A limit lowered below today's usage leaves nothing today (LIM-3, once a panic in the contract).
            raise ModelRevertError("DailyLimitExceeded", amount, max(limit - used, 0))
        self.withdrawal_day = self.today()
        self.withdrawn_in_day = used + amount
        self.balance -= amount
        self.token_balances[to] = self.token_balances.get(to, 0) + amount
        self.total_withdrawn += amount
        self.withdrawals.append((self.today(), amount, limit))

    def set_daily_withdrawal_limit(self, sender: str, limit: int) -> None:
        self._only_governance(sender)
        self.daily_withdrawal_limit = self._to_uint96(limit)

    def set_daily_payout_limit(self, sender: str, limit: int) -> None:
        self._only_governance(sender)
        if self.max_payout_per_claim > limit:
            raise ModelRevertError("MaxPayoutAboveDailyPayoutLimit", self.max_payout_per_claim, limit)
        self.daily_payout_limit = self._to_uint96(limit)

    def set_daily_approval_limit(self, sender: str, limit: int) -> None:
        self._only_governance(sender)
        self.daily_approval_limit = self._to_uint96(limit)

    def set_max_payout_per_claim(self, sender: str, max_payout: int) -> None:
        self._only_governance(sender)
        if max_payout > self.daily_payout_limit:
            raise ModelRevertError("MaxPayoutAboveDailyPayoutLimit", max_payout, self.daily_payout_limit)
        self.max_payout_per_claim = max_payout

    def set_max_coverage_limit(self, sender: str, max_limit: int) -> None:
        self._only_governance(sender)
        self.max_coverage_limit = self._to_uint96(max_limit)

    def set_challenge_period(self, sender: str, period: int) -> None:
        self._only_governance(sender)
        if not MIN_CHALLENGE_PERIOD <= period <= MAX_CHALLENGE_PERIOD:
            raise ModelRevertError(
                "InvalidChallengePeriod", period, MIN_CHALLENGE_PERIOD, MAX_CHALLENGE_PERIOD
            )
        self.challenge_period = period

    def set_claim_grace_period(self, sender: str, period: int) -> None:
        self._only_governance(sender)
        if period > MAX_CLAIM_GRACE_PERIOD:
            raise ModelRevertError("InvalidClaimGracePeriod", period, MAX_CLAIM_GRACE_PERIOD)
        self.claim_grace_period = period

    # ------------------------------------------------------------------ pause

    def pause(self, sender: str, flags: int) -> None:
        self._only_role_or_governance(sender, GUARDIAN_ROLE)
        self._check_pause_flags(flags)
        self.paused_flags |= flags

    def unpause(self, sender: str, flags: int) -> None:
        self._only_governance(sender)
        self._check_pause_flags(flags)
        self.paused_flags &= ~flags

    # ------------------------------------------------------------------ policyholders

    def _check_coverage(self, coverage_limit: int, coverage_end: int) -> int:
        if coverage_limit == 0:
            raise ModelRevertError("ZeroAmount")
        if coverage_limit > self.max_coverage_limit:
            raise ModelRevertError("CoverageLimitAboveMax", coverage_limit, self.max_coverage_limit)
        if coverage_end <= self.now or coverage_end > UINT40_MAX:
            raise ModelRevertError("InvalidCoverageEnd", coverage_end, self.now)
        return coverage_limit

    def _bind_account_ref(self, user: str, previous: bytes, account_ref: bytes) -> None:
        holder = self.account_ref_holder.get(account_ref)
        if holder != user:
            if holder is not None:
                held = self.policy(holder)
                holder_may_file = (
                    held.account_ref == account_ref
                    and self.now <= held.coverage_end + self.claim_grace_period
                )
                if holder_may_file:
                    raise ModelRevertError("AccountRefInUse", account_ref, holder)
                if held.account_ref == account_ref:
                    # The old holder keeps no ref to file under (POL-2: NotWhitelisted from now on).
                    held.account_ref = bytes(32)
                self.notes["model: account ref rebound to another trader"] += 1
            self.account_ref_holder[account_ref] = user
        if (
            previous != bytes(32)
            and previous != account_ref
            and self.account_ref_holder.get(previous) == user
        ):
            del self.account_ref_holder[previous]

    def add_to_whitelist(
        self, sender: str, users: list[str], account_refs: list[bytes], coverage_limit: int, coverage_end: int
    ) -> None:
        self._only_role_or_governance(sender, REGISTRAR_ROLE)
        self._check_batch(len(users))
        if len(account_refs) != len(users):
            raise ModelRevertError("LengthMismatch", len(users), len(account_refs))
        limit = self._check_coverage(coverage_limit, coverage_end)
        for user, account_ref in zip(users, account_refs, strict=True):
            if int(user, 16) == 0:
                raise ModelRevertError("ZeroAddress")
            if account_ref == bytes(32):
                raise ModelRevertError("ZeroAccountRef", user)
            policy = self.policy(user)
            if policy.whitelisted and policy.coverage_end >= self.now:
                raise ModelRevertError("AlreadyWhitelisted", user)
            if policy.blacklisted:
                raise ModelRevertError("UserBlacklisted", user)
            if limit < policy.used:
                raise ModelRevertError("CoverageLimitBelowUsed", limit, policy.used)
            self._bind_account_ref(user, policy.account_ref, account_ref)
            if policy.used:
                self.notes["model: new term carries usage over"] += 1
            policy.account_ref = account_ref
            policy.coverage_limit = limit
            policy.coverage_start = self.now
            policy.coverage_end = coverage_end
            policy.whitelisted = True

    def extend_coverage(self, sender: str, users: list[str], coverage_limit: int, coverage_end: int) -> None:
        self._only_role_or_governance(sender, REGISTRAR_ROLE)
        self._check_batch(len(users))
        limit = self._check_coverage(coverage_limit, coverage_end)
        for user in users:
            policy = self.policy(user)
            if not policy.whitelisted or policy.coverage_end < self.now:
                raise ModelRevertError("NotWhitelisted", user)
            if policy.blacklisted:
                raise ModelRevertError("UserBlacklisted", user)
            if coverage_end < policy.coverage_end:
                raise ModelRevertError("CoverageEndNotLater", coverage_end, policy.coverage_end)
            if limit < policy.used:
                raise ModelRevertError("CoverageLimitBelowUsed", limit, policy.used)
            policy.coverage_limit = limit
            policy.coverage_end = coverage_end

    def remove_from_whitelist(self, sender: str, users: list[str]) -> None:
        self._only_role_or_governance(sender, REGISTRAR_ROLE)
        self._check_batch(len(users))
        for user in users:
            policy = self.policy(user)
            if not policy.whitelisted:
                raise ModelRevertError("NotWhitelisted", user)
            policy.whitelisted = False
            policy.coverage_end = min(policy.coverage_end, self.now)

    def add_to_blacklist(self, sender: str, users: list[str]) -> None:
        if (
            sender != self.address
            and not self.has_role(GUARDIAN_ROLE, sender)
            and not self.has_role(REGISTRAR_ROLE, sender)
        ):
            raise ModelRevertError("Unauthorized", sender)
        self._check_batch(len(users))
        for user in users:
            if int(user, 16) == 0:
                raise ModelRevertError("ZeroAddress")
            policy = self.policy(user)
            if policy.blacklisted:
                raise ModelRevertError("AlreadyBlacklisted", user)
            policy.blacklisted = True

    def remove_from_blacklist(self, sender: str, users: list[str]) -> None:
        self._only_governance(sender)
        self._check_batch(len(users))
        for user in users:
            policy = self.policy(user)
            if not policy.blacklisted:
                raise ModelRevertError("NotBlacklisted", user)
            policy.blacklisted = False

    # ------------------------------------------------------------------ claims

    def submit_claim(
        self, sender: str, exchange: int, order_id: str, instrument: str, claimed_loss: int
    ) -> None:
        self._when_not_paused(PAUSE_CLAIMS)
        if not 1 <= exchange <= 3:
            raise ModelRevertError("UnsupportedExchange", exchange)
        if not is_token(order_id, MAX_ORDER_ID_LENGTH, lower_case=True):
            raise ModelRevertError("InvalidOrderId", order_id)
        if not is_token(instrument, MAX_INSTRUMENT_LENGTH, lower_case=False):
            raise ModelRevertError("InvalidInstrument", instrument)
        if claimed_loss == 0:
            raise ModelRevertError("ZeroAmount")
        policy = self.policy(sender)
        if policy.account_ref == bytes(32):
            raise ModelRevertError("NotWhitelisted", sender)
        if policy.blacklisted:
            raise ModelRevertError("UserBlacklisted", sender)
        deadline = self.claim_deadline(sender)
        if self.now < policy.coverage_start or self.now > deadline:
            raise ModelRevertError("OutsideCoverage", sender, policy.coverage_start, deadline)
        remaining = self.remaining_coverage(sender)
        if claimed_loss > remaining:
            raise ModelRevertError("ClaimExceedsCoverage", claimed_loss, remaining)
        key = (exchange, policy.account_ref, instrument, order_id)
        existing = self.claim_by_order.get(key, 0)
        if existing:
            raise ModelRevertError("DuplicateClaim", existing)
        if self.now > policy.coverage_end:
            self.notes["model: claim filed in the grace period"] += 1
        self.claims.append(ModelClaim(sender, exchange, PENDING, claimed_loss, 0, self.now))
        self.claim_by_order[key] = len(self.claims)

    def _verify(
        self, sender: str, claim_id: int, approved: bool, payout: int, evidence_hash: bytes, reason_code: int
    ) -> None:
        claim = self.claim(claim_id)
        status = self.claim_status(claim_id)
        if claim is None or status != PENDING:
            raise ModelRevertError("InvalidClaimStatus", claim_id, status)
        if evidence_hash == bytes(32):
            raise ModelRevertError("ZeroEvidenceHash")
        if claim.user == sender:
            raise ModelRevertError("ConflictOfInterest", claim_id, sender)
        if approved:
            if payout == 0:
                raise ModelRevertError("ZeroAmount")
            policy = self.policy(claim.user)
            if policy.blacklisted:
                raise ModelRevertError("UserBlacklisted", claim.user)
            cap = min(claim.claimed_loss, self.remaining_coverage(claim.user), self.max_payout_per_claim)
            if payout > cap:
                raise ModelRevertError("PayoutTooLarge", payout, cap)
            free = self.free_balance()
            if payout > free:
                raise ModelRevertError("InsufficientFreeBalance", payout, free)
            approved_today = self.approved_today(self.now)
            approvals_left = max(self.daily_approval_limit - approved_today, 0)
            if payout > approvals_left:
                raise ModelRevertError("DailyApprovalLimitExceeded", payout, approvals_left)
            self.approval_day = self.today()
            self.approved_in_day = approved_today + payout
            self.approvals.append((self.today(), payout, self.daily_approval_limit))
            claim.status = APPROVED
            claim.payout = payout
            claim.payable_at = self.now + self.challenge_period
            claim.approval_cap = cap
            policy.used += payout
            self.reserved += payout
        else:
            if payout != 0:
                raise ModelRevertError("PayoutOnRejection", payout)
            claim.status = REJECTED
        if claim.reopened:
            self.notes["model: reopened claim re-decided"] += 1
            claim.reopened = False
        claim.decided_at = self.now
        claim.reason_code = reason_code

    def post_verification(
        self, sender: str, claim_id: int, approved: bool, payout: int, evidence_hash: bytes, reason_code: int
    ) -> None:
        self._only_role(sender, VALIDATOR_ROLE)
        self._when_not_paused(PAUSE_VERIFICATIONS)
        self._verify(sender, claim_id, approved, payout, evidence_hash, reason_code)

    def post_verifications(self, sender: str, items: list[tuple[int, bool, int, bytes, int]]) -> None:
        self._only_role(sender, VALIDATOR_ROLE)
        self._when_not_paused(PAUSE_VERIFICATIONS)
        self._check_batch(len(items))
        for claim_id, approved, payout, evidence_hash, reason_code in items:
            if self.claim_status(claim_id) > PENDING:
                self.skips.append(("VerificationSkipped", claim_id, SKIP_WRONG_STATUS))
                continue
            self._verify(sender, claim_id, approved, payout, evidence_hash, reason_code)

    def _release_approval(self, claim: ModelClaim, reason_code: int) -> None:
        """Approved -> Rejected: the payout's reservation is released from the policy and the pool."""
        amount = claim.payout
        claim.status = REJECTED
        claim.reason_code = reason_code
        claim.payout = 0
        claim.payable_at = 0
        self.policy(claim.user).used -= amount
        self.reserved -= amount

    def veto_claim(self, sender: str, claim_id: int, reason_code: int) -> None:
        self._only_role_or_governance(sender, GUARDIAN_ROLE)
        claim = self.claim(claim_id)
        status = self.claim_status(claim_id)
        if claim is None or status != APPROVED:
            raise ModelRevertError("InvalidClaimStatus", claim_id, status)
        if self.now >= claim.payable_at:
            raise ModelRevertError("ChallengePeriodOver", claim_id, claim.payable_at)
        self._release_approval(claim, reason_code)

    def veto_claims(self, sender: str, claim_ids: list[int], reason_code: int) -> None:
        self._only_role_or_governance(sender, GUARDIAN_ROLE)
        self._check_batch(len(claim_ids))
        for claim_id in claim_ids:
            claim = self.claim(claim_id)
            if claim is None or claim.status != APPROVED:
                self.skips.append(("VetoSkipped", claim_id, SKIP_WRONG_STATUS))
                continue
            if self.now >= claim.payable_at:
                self.skips.append(("VetoSkipped", claim_id, SKIP_CHALLENGE_WINDOW_OVER))
                continue
            self._release_approval(claim, reason_code)

    def cancel_approved_claim(self, sender: str, claim_id: int, reason_code: int) -> None:
        self._only_governance(sender)
        claim = self.claim(claim_id)
        status = self.claim_status(claim_id)
        if claim is None or status != APPROVED:
            raise ModelRevertError("InvalidClaimStatus", claim_id, status)
        self._release_approval(claim, reason_code)

    def reopen_claim(self, sender: str, claim_id: int) -> None:
        self._only_governance(sender)
        claim = self.claim(claim_id)
        status = self.claim_status(claim_id)
        if claim is None or status != REJECTED:
            raise ModelRevertError("InvalidClaimStatus", claim_id, status)
        claim.status = PENDING
        claim.decided_at = 0
        claim.reason_code = 0
        claim.reopened = True

    def execute_payout(self, sender: str, claim_id: int) -> None:
        self._when_not_paused(PAUSE_PAYOUTS)
        self._execute_payouts([claim_id], strict=True)

    def execute_payouts(self, sender: str, claim_ids: list[int]) -> None:
        self._when_not_paused(PAUSE_PAYOUTS)
        self._check_batch(len(claim_ids))
        self._execute_payouts(claim_ids, strict=False)

    def _execute_payouts(self, claim_ids: list[int], *, strict: bool) -> None:
        # The test token never refuses a transfer, so PayoutFailed / PayoutTransferFailed are not modelled.
        paid_in_day = self.paid_out_today(self.now)
        paid = False
        for claim_id in claim_ids:
            claim = self.claim(claim_id)
            reason = self._payout_skip_reason(claim_id, claim, paid_in_day)
            if reason is not None:
                skip, error = reason
                if strict:
                    raise error
                self.skips.append(("PayoutSkipped", claim_id, skip))
                continue
            assert claim is not None
            amount = claim.payout
            claim.status = PAID
            paid_in_day += amount
            self.reserved -= amount
            self.balance -= amount
            self.token_balances[claim.user] = self.token_balances.get(claim.user, 0) + amount
            self.total_paid += amount
            self.paid_claim_ids.append(claim_id)
            self.payouts.append((self.today(), amount, self.daily_payout_limit))
            paid = True
        if paid:
            self.payout_day = self.today()
            self.paid_in_day = paid_in_day

    def _payout_skip_reason(
        self, claim_id: int, claim: ModelClaim | None, paid_in_day: int
    ) -> tuple[int, ModelRevertError] | None:
        status = self.claim_status(claim_id)
        if claim is None or status != APPROVED:
            return SKIP_WRONG_STATUS, ModelRevertError("InvalidClaimStatus", claim_id, status)
        if self.now < claim.payable_at:
            return SKIP_CHALLENGE_WINDOW_OPEN, ModelRevertError(
                "ChallengePeriodActive", claim_id, claim.payable_at
            )
        if self.policy(claim.user).blacklisted:
            return SKIP_USER_BLACKLISTED, ModelRevertError("UserBlacklisted", claim.user)
        remaining_today = max(self.daily_payout_limit - paid_in_day, 0)
        if claim.payout > remaining_today:
            return SKIP_DAILY_PAYOUT_LIMIT, ModelRevertError(
                "DailyPayoutLimitExceeded", claim.payout, remaining_today
            )
        return None

    # ------------------------------------------------------------------ roles

    def grant_role(self, sender: str, role: bytes, account: str) -> None:
        self._only_role(sender, DEFAULT_ADMIN_ROLE)
        if role == DEFAULT_ADMIN_ROLE and account != self.address:
            raise ModelRevertError("AdminRoleReserved", account)
        self.role_members.setdefault(role, set()).add(account)

    def revoke_role(self, sender: str, role: bytes, account: str) -> None:
        self._only_role(sender, DEFAULT_ADMIN_ROLE)
        if role == DEFAULT_ADMIN_ROLE:
            raise ModelRevertError("AdminRoleReserved", account)
        self.role_members.setdefault(role, set()).discard(account)

    def renounce_role(self, sender: str, role: bytes, confirmation: str) -> None:
        if confirmation != sender:
            raise ModelRevertError("AccessControlBadConfirmation")
        if role == DEFAULT_ADMIN_ROLE:
            raise ModelRevertError("AdminRoleReserved", sender)
        self.role_members.setdefault(role, set()).discard(sender)

    # ------------------------------------------------------------------ upgrade and multicall

    def upgrade_to_and_call(self, sender: str, implementation: str, data: bytes) -> None:
        self._only_governance(sender)
        if implementation not in self.implementation_versions:
            raise ModelRevertError("ERC1967InvalidImplementation", implementation)
        self.implementation = implementation

    def multicall(self, sender: str, actions: tuple[Action, ...]) -> None:
        """Each call is a delegatecall into the proxy: same sender; the first revert reverts them all."""
        for name, args in actions:
            GOVERNANCE_OPERATIONS[name](self, sender, *args)

    # ------------------------------------------------------------------ multisig

    def _require_existing(self, proposal_id: int) -> ModelProposal:
        if not 1 <= proposal_id <= len(self.proposals):
            raise ModelRevertError("UnknownProposal", proposal_id)
        return self.proposals[proposal_id - 1]

    def _require_open(self, proposal_id: int) -> ModelProposal:
        proposal = self._require_existing(proposal_id)
        if proposal.executed:
            raise ModelRevertError("ProposalAlreadyExecuted", proposal_id)
        if proposal.cancelled:
            raise ModelRevertError("ProposalAlreadyCancelled", proposal_id)
        if self.now >= proposal.expires_at:
            raise ModelRevertError("ProposalExpired", proposal_id, proposal.expires_at)
        return proposal

    def _schedule_if_threshold_met(self, proposal_id: int, proposal: ModelProposal) -> None:
        if proposal.ready_at == 0 and self.confirmation_count(proposal_id) >= self.threshold:
            proposal.ready_at = self.now + self.execution_delay
            proposal.delayed = self.execution_delay > 0

    def propose(self, sender: str, action: Action, target: str) -> None:
        self._only_signer(sender)
        if target != self.address:
            raise ModelRevertError("InvalidProposalTarget", target)
        proposal = ModelProposal(action, sender, self.now, self.now + self.proposal_lifetime)
        proposal.confirmations[sender] = self.signer_epoch[sender]
        self.proposals.append(proposal)
        self._schedule_if_threshold_met(len(self.proposals), proposal)

    def confirm(self, sender: str, proposal_id: int) -> None:
        self._only_signer(sender)
        proposal = self._require_open(proposal_id)
        epoch = self.signer_epoch[sender]
        if proposal.confirmations.get(sender) == epoch:
            raise ModelRevertError("AlreadyConfirmed", proposal_id, sender)
        proposal.confirmations[sender] = epoch
        self._schedule_if_threshold_met(proposal_id, proposal)

    def schedule(self, sender: str, proposal_id: int) -> None:
        self._only_signer(sender)
        proposal = self._require_open(proposal_id)
        if proposal.ready_at != 0:
            raise ModelRevertError("ProposalAlreadyScheduled", proposal_id, proposal.ready_at)
        have = self.confirmation_count(proposal_id)
        if have < self.threshold:
            raise ModelRevertError("ThresholdNotMet", proposal_id, have, self.threshold)
        proposal.ready_at = self.now + self.execution_delay
        proposal.delayed = self.execution_delay > 0

    def revoke_confirmation(self, sender: str, proposal_id: int) -> None:
        self._only_signer(sender)
        proposal = self._require_open(proposal_id)
        if proposal.confirmations.get(sender) != self.signer_epoch[sender]:
            raise ModelRevertError("NotConfirmed", proposal_id, sender)
        del proposal.confirmations[sender]

    def execute(self, sender: str, proposal_id: int) -> None:
        self._only_signer(sender)
        proposal = self._require_open(proposal_id)
        have = self.confirmation_count(proposal_id)
        if have < self.threshold:
            raise ModelRevertError("ThresholdNotMet", proposal_id, have, self.threshold)
        if proposal.ready_at == 0 or self.now < proposal.ready_at:
            raise ModelRevertError("ProposalNotReady", proposal_id, proposal.ready_at)
        if proposal.delayed:
            self.notes["model: proposal executed after its delay"] += 1
        proposal.executed = True
        proposal.executed_at = self.now
        self.call_as_governance(proposal.action)

    def cancel(self, sender: str, proposal_id: int) -> None:
        proposal = self._require_existing(proposal_id)
        if proposal.executed:
            raise ModelRevertError("ProposalAlreadyExecuted", proposal_id)
        if proposal.cancelled:
            raise ModelRevertError("ProposalAlreadyCancelled", proposal_id)
        by_proposer = sender == proposal.proposer and self.is_signer(sender)
        if not by_proposer and sender != self.address:
            # LeverageGuardAdmin._authorizeCancel: a guardian in the delay, unless it only removes guardians.
            if not self.has_role(GUARDIAN_ROLE, sender):
                raise ModelRevertError("NotProposer", proposal_id, sender)
            if proposal.ready_at == 0 or self.now >= proposal.ready_at:
                raise ModelRevertError("NotInDelay", proposal_id, proposal.ready_at)
            if only_revokes_guardians(proposal.action):
                raise ModelRevertError("GuardianRemovalNotCancellable", proposal_id)
            self.notes["model: guardian cancel in delay"] += 1
        proposal.cancelled = True

    def add_signer(self, sender: str, signer: str) -> None:
        self._only_governance(sender)
        if len(self.signers) >= MAX_SIGNERS:
            raise ModelRevertError("TooManySigners", MAX_SIGNERS + 1, MAX_SIGNERS)
        if int(signer, 16) == 0:
            raise ModelRevertError("ZeroAddress")
        if signer == self.address:
            raise ModelRevertError("InvalidSigner", signer)
        if self.is_signer(signer):
            raise ModelRevertError("AlreadySigner", signer)
        self.last_epoch += 1
        self.signer_epoch[signer] = self.last_epoch
        self.signers.append(signer)

    def remove_signer(self, sender: str, signer: str) -> None:
        self._only_governance(sender)
        if not self.is_signer(signer):
            raise ModelRevertError("NotSigner", signer)
        remaining = len(self.signers) - 1
        if self.threshold > remaining:
            raise ModelRevertError("InvalidThreshold", self.threshold, remaining)
        del self.signer_epoch[signer]
        # The contract swaps the last signer into the removed one's slot and pops.
        index = self.signers.index(signer)
        self.signers[index] = self.signers[-1]
        self.signers.pop()

    def set_threshold(self, sender: str, threshold: int) -> None:
        self._only_governance(sender)
        if threshold == 0 or threshold > len(self.signers):
            raise ModelRevertError("InvalidThreshold", threshold, len(self.signers))
        self.threshold = threshold

    def set_proposal_lifetime(self, sender: str, lifetime: int) -> None:
        self._only_governance(sender)
        minimum = MIN_PROPOSAL_LIFETIME + self.execution_delay
        if not minimum <= lifetime <= MAX_PROPOSAL_LIFETIME:
            raise ModelRevertError("InvalidProposalLifetime", lifetime, minimum, MAX_PROPOSAL_LIFETIME)
        self.proposal_lifetime = lifetime

    def set_execution_delay(self, sender: str, delay: int) -> None:
        self._only_governance(sender)
        maximum = self.max_execution_delay()
        if delay > maximum:
            raise ModelRevertError("InvalidExecutionDelay", delay, maximum)
        self.execution_delay = delay


# Contract function name -> model operation, for calls that proposals make as governance.
GOVERNANCE_OPERATIONS: dict[str, Callable[..., Any]] = {
    "withdraw": GuardModel.withdraw,
    "setDailyWithdrawalLimit": GuardModel.set_daily_withdrawal_limit,
    "setDailyPayoutLimit": GuardModel.set_daily_payout_limit,
    "setDailyApprovalLimit": GuardModel.set_daily_approval_limit,
    "setMaxPayoutPerClaim": GuardModel.set_max_payout_per_claim,
    "setMaxCoverageLimit": GuardModel.set_max_coverage_limit,
    "setChallengePeriod": GuardModel.set_challenge_period,
    "setClaimGracePeriod": GuardModel.set_claim_grace_period,
    "pause": GuardModel.pause,
    "unpause": GuardModel.unpause,
    "addToWhitelist": GuardModel.add_to_whitelist,
    "extendCoverage": GuardModel.extend_coverage,
    "removeFromBlacklist": GuardModel.remove_from_blacklist,
    "vetoClaim": GuardModel.veto_claim,
    "vetoClaims": GuardModel.veto_claims,
    "cancelApprovedClaim": GuardModel.cancel_approved_claim,
    "reopenClaim": GuardModel.reopen_claim,
    "grantRole": GuardModel.grant_role,
    "revokeRole": GuardModel.revoke_role,
    "upgradeToAndCall": GuardModel.upgrade_to_and_call,
    "multicall": GuardModel.multicall,
    "cancel": GuardModel.cancel,
    "addSigner": GuardModel.add_signer,
    "removeSigner": GuardModel.remove_signer,
    "setThreshold": GuardModel.set_threshold,
    "setProposalLifetime": GuardModel.set_proposal_lifetime,
    "setExecutionDelay": GuardModel.set_execution_delay,
}
