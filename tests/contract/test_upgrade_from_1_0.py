"""UPG-2: upgrading a live 1.0.0 pool to 1.1.0 through a 2-of-3 proposal keeps every claim, policy, balance,
counter, signer and role; `migrateFrom1_0` runs inside `upgradeToAndCall` and binds the account hashes.

The 1.0.0 pool is the compiled 1.0.0 artifact (`tests/fixture_contracts/legacy/LeverageGuard-1.0.0.json`:
abi and bytecodes), deployed behind the project's LeverageGuardProxy and driven through its own ABI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ape
import pytest
from ape.contracts import ContractContainer
from ethpm_types import ContractType
from support.pool import (
    ACCOUNT_REF,
    APPROVED,
    CHALLENGE_PERIOD,
    DAY,
    EVIDENCE,
    OKX,
    PAID,
    PENDING,
    REJECTED,
    USDT,
    Governance,
)

from operator_toolkit.deployment import deploy_implementation, guard_at

LEGACY_ARTIFACT = (
    Path(__file__).resolve().parents[1] / "fixture_contracts" / "legacy" / "LeverageGuard-1.0.0.json"
)
OTHER_REF = bytes.fromhex("cd" * 32)
INSTRUMENT = "BTC-USDT-SWAP"
FUNDS = 100_000 * USDT
WITHDRAWN = 1_000 * USDT
NEW_APPROVAL_LIMIT = 60_000 * USDT
NEW_MAX_COVERAGE = 50_000 * USDT
VETO = 100
# claim ids in the order the 1.0.0 state is built
PENDING_ID, PAID_ID, REJECTED_ID, APPROVED_ID, VETOED_ID = 1, 2, 3, 4, 5


def legacy_container() -> ContractContainer:
    """LeverageGuard 1.0.0 as a deployable container; its initialize is (asset, signers, threshold)."""
    artifact = json.loads(LEGACY_ARTIFACT.read_text())
    contract_type = ContractType.model_validate(
        {
            "contractName": "LeverageGuardV1_0",
            "abi": artifact["abi"],
            "deploymentBytecode": artifact["deploymentBytecode"],
            "runtimeBytecode": artifact["runtimeBytecode"],
        }
    )
    return ContractContainer(contract_type)


def deploy_legacy_guard(
    project: Any, deployer: Any, asset: Any, signer_list: list[Any], threshold: int
) -> Any:
    """A 1.0.0 implementation behind a LeverageGuardProxy, initialised; returns the 1.0.0 interface."""
    legacy = legacy_container()
    implementation = deployer.deploy(legacy)
    init_data = implementation.initialize.encode_input(asset, signer_list, threshold)
    proxy = deployer.deploy(project.LeverageGuardProxy, implementation, init_data)
    return legacy.at(proxy.address)


@dataclass(frozen=True)
class LegacyState:
    """What the 1.0.0 pool showed just before the upgrade, read through its own views."""

    guard: Any  # the 1.1 interface at the proxy, after the upgrade
    claims: list[tuple[Any, ...]]
    policies: dict[str, tuple[Any, ...]]
    whitelisted: dict[str, bool]
    proposals: list[tuple[Any, ...]]
    signers: list[str]
    total_assets: int
    reserved: int
    paid_out_today: int
    withdrawn_today: int
    upgrade_receipt: Any
    open_proposal: int


@pytest.fixture(scope="module")
def upgraded(
    project: Any,
    chain: Any,
    deployer: Any,
    token: Any,
    signers: list[Any],
    guardian: Any,
    validator: Any,
    registrar: Any,
    trader: Any,
    other_trader: Any,
    sponsor: Any,
    stranger: Any,
) -> LegacyState:
    """A 1.0.0 pool with claims in every status, a vetoed claim and an open proposal, upgraded to 1.1.0."""
    old = deploy_legacy_guard(project, deployer, token, signers, 2)
    gov = Governance(old, signers)
    gov(old.grantRole, old.GUARDIAN_ROLE(), guardian)
    gov(old.grantRole, old.VALIDATOR_ROLE(), validator)
    gov(old.grantRole, old.REGISTRAR_ROLE(), registrar)
    gov(old.setDailyWithdrawalLimit, 20_000 * USDT)
    gov(old.setDailyPayoutLimit, 50_000 * USDT)
    gov(old.setMaxPayoutPerClaim, 5_000 * USDT)
    gov(old.setChallengePeriod, CHALLENGE_PERIOD)
    token.mint(sponsor, FUNDS, sender=sponsor)
    token.approve(old, FUNDS, sender=sponsor)
    old.deposit(FUNDS, sender=sponsor)
    end = int(chain.pending_timestamp) + 30 * DAY
    old.addToWhitelist([trader, other_trader], [ACCOUNT_REF, OTHER_REF], 10_000 * USDT, end, sender=registrar)

    old.submitClaim(OKX, "legacy-1", INSTRUMENT, 1_000 * USDT, sender=trader)  # stays Pending
    old.submitClaim(OKX, "legacy-2", INSTRUMENT, 700 * USDT, sender=other_trader)  # Paid
    old.submitClaim(OKX, "legacy-3", INSTRUMENT, 900 * USDT, sender=other_trader)  # Rejected
    old.postVerification(PAID_ID, True, 500 * USDT, EVIDENCE, 0, sender=validator)
    old.postVerification(REJECTED_ID, False, 0, EVIDENCE, 7, sender=validator)
    chain.pending_timestamp += CHALLENGE_PERIOD
    old.executePayout(PAID_ID, sender=stranger)
    gov(old.withdraw, stranger, WITHDRAWN)
    old.submitClaim(OKX, "legacy-4", INSTRUMENT, 1_000 * USDT, sender=trader)  # Approved, window open
    old.submitClaim(OKX, "legacy-5", INSTRUMENT, 400 * USDT, sender=trader)  # vetoed
    old.postVerification(APPROVED_ID, True, 800 * USDT, EVIDENCE, 0, sender=validator)
    old.postVerification(VETOED_ID, True, 300 * USDT, EVIDENCE, 0, sender=validator)
    old.vetoClaim(VETOED_ID, VETO, sender=guardian)
    open_proposal = int(
        old.propose(old, 0, old.setDailyWithdrawalLimit.encode_input(1), sender=signers[2]).return_value
    )

    users = [trader, other_trader]
    claims = [tuple(old.getClaim(i)) for i in range(1, old.claimCount() + 1)]
    policies = {u.address: tuple(old.getPolicy(u)) for u in users}
    whitelisted = {u.address: bool(old.isWhitelisted(u)) for u in users}
    signer_list = list(old.getSigners())
    total_assets, reserved = old.totalAssets(), old.reservedAmount()
    paid_out_today, withdrawn_today = old.paidOutToday(), old.withdrawnToday()

    # ape cached the 1.0.0 type for this address (and would merge it into guard_at's and decode the
    # upgraded proxy's logs with it): replace it by the 1.1 interface, as a fresh process would see it.
    chain.contracts[old.address] = project.ILeverageGuard.contract_type
    guard = guard_at(project, old.address)
    implementation, _ = deploy_implementation(project, deployer)
    migrate = guard.migrateFrom1_0.encode_input([trader, other_trader])
    calls = [
        guard.upgradeToAndCall.encode_input(implementation, migrate),
        guard.setDailyApprovalLimit.encode_input(NEW_APPROVAL_LIMIT),
        guard.setMaxCoverageLimit.encode_input(NEW_MAX_COVERAGE),
    ]
    receipt = gov.execute(old.multicall, calls)
    proposals = [tuple(old.getProposal(i)) for i in range(1, open_proposal + 1)]
    return LegacyState(
        guard,
        claims,
        policies,
        whitelisted,
        proposals,
        signer_list,
        total_assets,
        reserved,
        paid_out_today,
        withdrawn_today,
        receipt,
        open_proposal,
    )


def test_UPG_2__upgrade__emits_migration_events(  # noqa: N802
    upgraded: LegacyState, trader: Any, other_trader: Any
) -> None:
    guard, receipt = upgraded.guard, upgraded.upgrade_receipt
    assert receipt.events.filter(guard.AccountRefBound) == [
        guard.AccountRefBound(ACCOUNT_REF, trader),
        guard.AccountRefBound(OTHER_REF, other_trader),
    ]
    assert receipt.events.filter(guard.MigratedFrom1_0) == [guard.MigratedFrom1_0(2, True)]
    assert receipt.events.filter(guard.DailyApprovalLimitChanged) == [
        guard.DailyApprovalLimitChanged(0, NEW_APPROVAL_LIMIT)
    ]
    assert receipt.events.filter(guard.MaxCoverageLimitChanged) == [
        guard.MaxCoverageLimitChanged(0, NEW_MAX_COVERAGE)
    ]
    assert receipt.events.filter(guard.ChallengePeriodChanged) == []  # 1 h already: not raised
    assert guard.version() == "1.1.0"


def test_UPG_2__upgrade__keeps_every_claim_and_stamps_payable_at_of_1_0_approvals(  # noqa: N802
    upgraded: LegacyState,
) -> None:
    guard = upgraded.guard
    assert guard.claimCount() == len(upgraded.claims) == 5
    statuses = [c[2] for c in upgraded.claims]
    assert statuses == [PENDING, PAID, REJECTED, APPROVED, REJECTED]
    for claim_id, old in enumerate(upgraded.claims, start=1):
        decided_at = old[6]
        payable_at = decided_at + CHALLENGE_PERIOD if old[2] in (APPROVED, PAID) else 0
        assert tuple(guard.getClaim(claim_id)) == (*old, payable_at), claim_id
    assert upgraded.claims[VETOED_ID - 1][4] == 0  # veto cleared the payout
    assert upgraded.claims[VETOED_ID - 1][7] == VETO


def test_UPG_2__upgrade__policies_used_is_paid_out_plus_reserved(  # noqa: N802
    upgraded: LegacyState, trader: Any, other_trader: Any
) -> None:
    guard = upgraded.guard
    assert upgraded.policies[trader.address][4:] == (0, 800 * USDT)
    assert upgraded.policies[other_trader.address][4:] == (500 * USDT, 0)
    for user in (trader, other_trader):
        ref, limit, start, end, paid_out, reserved = upgraded.policies[user.address]
        assert tuple(guard.getPolicy(user)) == (
            ref,
            limit,
            start,
            end,
            paid_out + reserved,
            upgraded.whitelisted[user.address],
            False,
        )
        assert guard.remainingCoverage(user) == limit - paid_out - reserved


def test_UPG_2__upgrade__keeps_balances_counters_signers_roles_and_proposals(  # noqa: N802
    upgraded: LegacyState,
    token: Any,
    signers: list[Any],
    guardian: Any,
    validator: Any,
    registrar: Any,
    other_trader: Any,
    stranger: Any,
) -> None:
    guard = upgraded.guard
    assert upgraded.total_assets == FUNDS - 500 * USDT - WITHDRAWN
    assert guard.totalAssets() == token.balanceOf(guard) == upgraded.total_assets
    assert guard.reservedAmount() == upgraded.reserved == 800 * USDT
    assert guard.freeBalance() == upgraded.total_assets - 800 * USDT
    assert guard.paidOutToday() == upgraded.paid_out_today == 500 * USDT
    assert guard.withdrawnToday() == upgraded.withdrawn_today == WITHDRAWN
    assert token.balanceOf(other_trader) == 500 * USDT
    assert token.balanceOf(stranger) == WITHDRAWN
    assert guard.approvedToday() == 0
    assert guard.getSigners() == upgraded.signers == [s.address for s in signers]
    assert guard.threshold() == 2
    assert (guard.dailyWithdrawalLimit(), guard.dailyPayoutLimit(), guard.maxPayoutPerClaim()) == (
        20_000 * USDT,
        50_000 * USDT,
        5_000 * USDT,
    )
    assert guard.challengePeriod() == CHALLENGE_PERIOD
    assert guard.claimGracePeriod() == guard.DEFAULT_CLAIM_GRACE_PERIOD()
    assert guard.executionDelay() == 0
    assert (guard.dailyApprovalLimit(), guard.maxCoverageLimit()) == (NEW_APPROVAL_LIMIT, NEW_MAX_COVERAGE)
    assert guard.pausedFlags() == 0
    assert guard.hasRole(guard.DEFAULT_ADMIN_ROLE(), guard)
    for role, holder in (
        (guard.GUARDIAN_ROLE(), guardian),
        (guard.VALIDATOR_ROLE(), validator),
        (guard.REGISTRAR_ROLE(), registrar),
    ):
        assert guard.hasRole(role, holder)
        assert not guard.hasRole(role, stranger)
    assert guard.proposalCount() == upgraded.open_proposal + 1  # then the upgrade's
    assert guard.getProposal(upgraded.open_proposal + 1).executed
    for proposal_id, old in enumerate(upgraded.proposals, start=1):
        assert tuple(guard.getProposal(proposal_id)) == (*old, 0), proposal_id
    assert upgraded.proposals[-1][6:9] == (1, False, False)  # the open one: one confirmation


def test_UPG_2__account_refs__bound_to_both_holders(  # noqa: N802
    upgraded: LegacyState, trader: Any, other_trader: Any, stranger: Any, registrar: Any, chain: Any
) -> None:
    guard = upgraded.guard
    assert guard.accountRefHolder(ACCOUNT_REF) == trader.address
    assert guard.accountRefHolder(OTHER_REF) == other_trader.address
    with ape.reverts(guard.AccountRefInUse, accountRef=ACCOUNT_REF, holder=trader.address):
        guard.addToWhitelist(
            [stranger], [ACCOUNT_REF], 1_000 * USDT, int(chain.pending_timestamp) + DAY, sender=registrar
        )


def test_UPG_2__order_claimed_under_1_0__cannot_be_claimed_again(  # noqa: N802
    upgraded: LegacyState, trader: Any, other_trader: Any
) -> None:
    """The 1.0.0 key (exchange, orderId) stays taken, also under the new per-account key."""
    guard = upgraded.guard
    with ape.reverts(guard.DuplicateClaim, existingClaimId=PENDING_ID):
        guard.submitClaim(OKX, "legacy-1", INSTRUMENT, 1 * USDT, sender=trader)
    with ape.reverts(guard.DuplicateClaim, existingClaimId=REJECTED_ID):
        guard.submitClaim(OKX, "legacy-3", INSTRUMENT, 1 * USDT, sender=other_trader)

    receipt = guard.submitClaim(OKX, "fresh-1", INSTRUMENT, 1 * USDT, sender=trader)

    assert receipt.return_value == 6
    assert guard.claimIdByOrder(OKX, ACCOUNT_REF, INSTRUMENT, "fresh-1") == 6


def test_UPG_2__1_0_approval__pays_after_its_window(  # noqa: N802
    upgraded: LegacyState, chain: Any, token: Any, trader: Any, stranger: Any
) -> None:
    guard = upgraded.guard
    payable_at = guard.getClaim(APPROVED_ID).payableAt
    chain.pending_timestamp = payable_at - 1
    with ape.reverts(guard.ChallengePeriodActive, claimId=APPROVED_ID, endsAt=payable_at):
        guard.executePayout(APPROVED_ID, sender=stranger)
    chain.pending_timestamp = payable_at

    receipt = guard.executePayout(APPROVED_ID, sender=stranger)

    assert receipt.events.filter(guard.PayoutExecuted) == [
        guard.PayoutExecuted(APPROVED_ID, trader, 800 * USDT)
    ]
    assert token.balanceOf(trader) == 800 * USDT
    assert guard.getClaim(APPROVED_ID).status == PAID
    assert guard.reservedAmount() == 0
    assert guard.getPolicy(trader).used == 800 * USDT


def test_UPG_2__1_0_approval__vetoable_before_its_window_ends(  # noqa: N802
    upgraded: LegacyState, guardian: Any, trader: Any
) -> None:
    guard = upgraded.guard

    receipt = guard.vetoClaim(APPROVED_ID, VETO, sender=guardian)

    assert receipt.events == [guard.ClaimVetoed(APPROVED_ID, guardian, trader, 800 * USDT, VETO)]
    assert guard.getClaim(APPROVED_ID).status == REJECTED
    assert guard.reservedAmount() == 0
    assert guard.getPolicy(trader).used == 0


def test_UPG_2__migrate_from_1_0__cannot_run_twice(  # noqa: N802
    upgraded: LegacyState, signers: list[Any], trader: Any
) -> None:
    guard = upgraded.guard
    with ape.reverts(guard.InvalidInitialization):
        Governance(guard, signers)(guard.migrateFrom1_0, [trader])


def test_UPG_2__initialize__cannot_run_on_the_upgraded_proxy(  # noqa: N802
    upgraded: LegacyState, token: Any, stranger: Any
) -> None:
    guard = upgraded.guard
    with ape.reverts(guard.InvalidInitialization):
        guard.initialize(token, [stranger], 1, sender=stranger)


def test_UPG_2__after_upgrade__execution_delay_schedules_proposals(  # noqa: N802
    upgraded: LegacyState, chain: Any, signers: list[Any]
) -> None:
    guard = upgraded.guard
    Governance(guard, signers)(guard.setExecutionDelay, DAY)
    proposal_id = int(
        guard.propose(guard, 0, guard.setClaimGracePeriod.encode_input(DAY), sender=signers[0]).return_value
    )

    receipt = guard.confirm(proposal_id, sender=signers[1])

    ready_at = receipt.timestamp + DAY
    assert receipt.events.filter(guard.ProposalScheduled) == [guard.ProposalScheduled(proposal_id, ready_at)]
    assert guard.getProposal(proposal_id).readyAt == ready_at
    chain.pending_timestamp = ready_at - 1
    with ape.reverts(guard.ProposalNotReady, proposalId=proposal_id, readyAt=ready_at):
        guard.execute(proposal_id, sender=signers[0])
    chain.pending_timestamp = ready_at
    guard.execute(proposal_id, sender=signers[0])
    assert guard.claimGracePeriod() == DAY


def test_UPG_2__after_upgrade__open_1_0_proposal_schedules_on_its_confirmation(  # noqa: N802
    upgraded: LegacyState, signers: list[Any]
) -> None:
    guard, proposal_id = upgraded.guard, upgraded.open_proposal

    receipt = guard.confirm(proposal_id, sender=signers[0])

    assert receipt.events.filter(guard.ProposalScheduled) == [
        guard.ProposalScheduled(proposal_id, receipt.timestamp)
    ]
    guard.execute(proposal_id, sender=signers[0])
    assert guard.dailyWithdrawalLimit() == 1


def test_UPG_2__after_upgrade__extend_coverage_keeps_start_and_used(  # noqa: N802
    upgraded: LegacyState, registrar: Any, trader: Any
) -> None:
    guard = upgraded.guard
    ref, _limit, start, end, paid_out, reserved = upgraded.policies[trader.address]
    new_end = end + 30 * DAY

    receipt = guard.extendCoverage([trader], 20_000 * USDT, new_end, sender=registrar)

    assert receipt.events == [guard.CoverageExtended(trader, 20_000 * USDT, new_end)]
    assert tuple(guard.getPolicy(trader)) == (
        ref,
        20_000 * USDT,
        start,
        new_end,
        paid_out + reserved,
        True,
        False,
    )


def test_UPG_2__two_1_0_policies_sharing_an_account_ref__migration_reverts_account_ref_in_use(  # noqa: N802
    project: Any,
    chain: Any,
    deployer: Any,
    token: Any,
    signers: list[Any],
    registrar: Any,
    trader: Any,
    other_trader: Any,
) -> None:
    """1.0.0 let two addresses share an accountRef; the migration refuses to bind it to both, so the
    upgrade proposal reverts whole and the pool stays on 1.0.0 until the list is corrected."""
    old = deploy_legacy_guard(project, deployer, token, signers, 2)
    gov = Governance(old, signers)
    gov(old.grantRole, old.REGISTRAR_ROLE(), registrar)
    end = int(chain.pending_timestamp) + 30 * DAY
    old.addToWhitelist(
        [trader, other_trader], [ACCOUNT_REF, ACCOUNT_REF], 1_000 * USDT, end, sender=registrar
    )
    implementation, _ = deploy_implementation(project, deployer)
    chain.contracts[old.address] = project.ILeverageGuard.contract_type
    guard = guard_at(project, old.address)
    migrate = guard.migrateFrom1_0.encode_input([trader, other_trader])

    with ape.reverts(guard.AccountRefInUse, accountRef=ACCOUNT_REF, holder=trader.address):
        gov.execute(old.upgradeToAndCall, implementation, migrate)

    assert guard.version() == "1.0.0"
