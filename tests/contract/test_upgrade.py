"""UUPS upgrades: only through an executed proposal, only to a UUPS implementation, state kept."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from ape.contracts import ContractInstance
from support.pool import (
    ACCOUNT_REF,
    CHALLENGE_PERIOD,
    EVIDENCE,
    OKX,
    PAUSE_DEPOSITS,
    USDT,
    Governance,
    as_guard,
    deploy_upgrade_target,
)

# ERC-1967: bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)
IMPLEMENTATION_SLOT = 0x360894A13BA1A3210667C828492DB98DCA3E2076CC3735A920A3CA505D382BBC
V2_MARKER = 0x5632


def _implementation(chain: Any, proxy: Any) -> str:
    raw = bytes(chain.provider.get_storage(proxy.address, IMPLEMENTATION_SLOT))
    return "0x" + raw[-20:].hex()


def _snapshot(guard: Any, accounts: list[Any]) -> dict[str, Any]:
    """Every piece of state a view exposes, for the accounts and roles that matter."""
    roles = [
        guard.DEFAULT_ADMIN_ROLE(),
        guard.GUARDIAN_ROLE(),
        guard.VALIDATOR_ROLE(),
        guard.REGISTRAR_ROLE(),
    ]
    holders = [*accounts, guard]
    return {
        "asset": guard.asset(),
        "totalAssets": guard.totalAssets(),
        "reservedAmount": guard.reservedAmount(),
        "freeBalance": guard.freeBalance(),
        "claimCount": guard.claimCount(),
        "claims": [tuple(guard.getClaim(i)) for i in range(1, guard.claimCount() + 1)],
        "claimIdByOrder": guard.claimIdByOrder(OKX, ACCOUNT_REF, "BTC-USDT-SWAP", "order-1"),
        "accountRefHolder": guard.accountRefHolder(ACCOUNT_REF),
        "policies": [tuple(guard.getPolicy(a)) for a in accounts],
        "whitelisted": [guard.isWhitelisted(a) for a in accounts],
        "blacklisted": [guard.isBlacklisted(a) for a in accounts],
        "remainingCoverage": [guard.remainingCoverage(a) for a in accounts],
        "signers": guard.getSigners(),
        "threshold": guard.threshold(),
        "proposalLifetime": guard.proposalLifetime(),
        "proposalCount": guard.proposalCount(),
        "proposals": [tuple(guard.getProposal(i)) for i in range(1, guard.proposalCount() + 1)],
        "roles": [[guard.hasRole(r, a) for a in holders] for r in roles],
        "dailyWithdrawalLimit": guard.dailyWithdrawalLimit(),
        "dailyPayoutLimit": guard.dailyPayoutLimit(),
        "maxPayoutPerClaim": guard.maxPayoutPerClaim(),
        "dailyApprovalLimit": guard.dailyApprovalLimit(),
        "maxCoverageLimit": guard.maxCoverageLimit(),
        "challengePeriod": guard.challengePeriod(),
        "claimGracePeriod": guard.claimGracePeriod(),
        "executionDelay": guard.executionDelay(),
        "pausedFlags": guard.pausedFlags(),
        "withdrawnToday": guard.withdrawnToday(),
        "paidOutToday": guard.paidOutToday(),
        "approvedToday": guard.approvedToday(),
    }


@pytest.fixture
def v2(test_contracts: dict[str, Any]) -> Any:
    return test_contracts["LeverageGuardV2"]


@pytest.fixture
def v2_implementation(v2: Any, deployer: Any, project: Any) -> Any:
    return deploy_upgrade_target(project, deployer, v2)


def _v2_at(v2: Any, address: Any) -> Any:
    """V2's own ABI at the proxy (not cached for the address: isolation reverts the upgrade)."""
    return ContractInstance(address, v2.contract_type)


@pytest.fixture
def busy_guard(
    guard: Any,
    gov: Governance,
    approved_claim: int,
    file_claim: Any,
    other_trader: Any,
    guardian: Any,
    signers: list[Any],
    stranger: Any,
) -> Any:
    """`guard` with history: an approved claim (800 USDT reserved), a pending claim by other_trader, a
    blacklisted stranger, deposits paused, 1,000 USDT withdrawn today, an open proposal."""
    file_claim(500 * USDT, by=other_trader)
    guard.addToBlacklist([stranger], sender=guardian)
    guard.pause(PAUSE_DEPOSITS, sender=guardian)
    gov(guard.withdraw, signers[2], 1_000 * USDT)
    gov.propose(guard.setThreshold, 3)
    return guard


def test_version__is_1_1_0(guard: Any, chain: Any, project: Any) -> None:
    implementation = project.LeverageGuard.at(_implementation(chain, guard))

    assert guard.version() == "1.1.0"
    assert implementation.version() == "1.1.0"
    assert guard.UPGRADE_INTERFACE_VERSION() == "5.0.0"


def test_upgrade__through_proposal__emits_upgraded_and_switches_implementation(
    v2: Any, guard: Any, gov: Governance, signers: list[Any], v2_implementation: Any, chain: Any, project: Any
) -> None:
    receipt = gov(guard.upgradeToAndCall, v2_implementation, b"")

    assert receipt.events == [
        guard.ProposalExecuted(proposalId=guard.proposalCount(), executor=signers[0]),
        guard.Upgraded(implementation=v2_implementation),
    ]
    assert _implementation(chain, guard) == v2_implementation.address.lower()
    upgraded = _v2_at(v2, guard.address)
    assert upgraded.version() == "2.0.0"
    assert upgraded.v2Marker() == V2_MARKER
    # The new implementation brought its own admin half.
    assert guard.ADMIN() == v2_implementation.ADMIN()


def test_upgrade__through_proposal__keeps_state(
    v2: Any,
    busy_guard: Any,
    gov: Governance,
    v2_implementation: Any,
    project: Any,
    signers: list[Any],
    guardian: Any,
    validator: Any,
    registrar: Any,
    trader: Any,
    other_trader: Any,
    sponsor: Any,
    stranger: Any,
) -> None:
    accounts = [*signers, guardian, validator, registrar, trader, other_trader, sponsor, stranger]
    before = _snapshot(busy_guard, accounts)
    # The snapshot must hold real history, or comparing it proves nothing.
    assert before["reservedAmount"] == 800 * USDT
    assert before["totalAssets"] == 99_000 * USDT
    assert before["claimCount"] == 2
    assert before["withdrawnToday"] == 1_000 * USDT
    assert before["pausedFlags"] == PAUSE_DEPOSITS
    assert before["blacklisted"][-1] is True

    gov(busy_guard.upgradeToAndCall, v2_implementation, b"")

    upgraded = _v2_at(v2, busy_guard.address)
    after = _snapshot(busy_guard, accounts)
    # the upgrade proposal itself is the only new proposal
    assert after.pop("proposalCount") == before.pop("proposalCount") + 1
    upgrade_proposal = after["proposals"].pop()
    assert upgrade_proposal[0] == busy_guard.address
    assert after == before
    assert upgraded.version() == "2.0.0"


def test_upgrade__after_upgrade__claims_pay_and_governance_works(
    v2: Any,
    guard: Any,
    gov: Governance,
    approved_claim: int,
    v2_implementation: Any,
    project: Any,
    signers: list[Any],
    trader: Any,
    token: Any,
    chain: Any,
) -> None:
    gov(guard.upgradeToAndCall, v2_implementation, b"")
    upgraded = _v2_at(v2, guard.address)
    chain.pending_timestamp += CHALLENGE_PERIOD

    upgraded.executePayout(approved_claim, sender=trader)
    Governance(guard, signers)(guard.setThreshold, 3)

    assert token.balanceOf(trader) == 800 * USDT
    assert guard.reservedAmount() == 0
    assert guard.threshold() == 3


def test_upgrade__with_call_data__runs_it_as_governance(
    guard: Any, gov: Governance, v2_implementation: Any, signers: list[Any]
) -> None:
    data = guard.setChallengePeriod.encode_input(7_200)

    receipt = gov(guard.upgradeToAndCall, v2_implementation, data)

    assert receipt.events == [
        guard.ProposalExecuted(proposalId=guard.proposalCount(), executor=signers[0]),
        guard.Upgraded(implementation=v2_implementation),
        guard.ChallengePeriodChanged(previousPeriod=CHALLENGE_PERIOD, newPeriod=7_200),
    ]
    assert guard.challengePeriod() == 7_200


def test_upgrade__with_initialize_call__reverts_invalid_initialization(
    guard: Any, gov: Governance, v2_implementation: Any, token: Any, stranger: Any, chain: Any
) -> None:
    implementation_before = _implementation(chain, guard)
    data = guard.initialize.encode_input(token, [stranger], 1)

    with ape.reverts(guard.InvalidInitialization):
        gov(guard.upgradeToAndCall, v2_implementation, data)

    assert _implementation(chain, guard) == implementation_before
    assert guard.isSigner(stranger) is False


def test_upgrade__with_migrate_from_1_0_on_a_1_1_pool__reverts_invalid_initialization(
    guard: Any, gov: Governance, v2_implementation: Any, trader: Any, chain: Any
) -> None:
    """migrateFrom1_0 is reinitializer(2): a pool initialised as 1.1 is at version 2 already."""
    implementation_before = _implementation(chain, guard)

    with ape.reverts(guard.InvalidInitialization):
        gov(guard.upgradeToAndCall, v2_implementation, guard.migrateFrom1_0.encode_input([trader]))

    assert _implementation(chain, guard) == implementation_before


@pytest.mark.parametrize("caller_kind", ["signer", "stranger"])
def test_migrate_from_1_0__called_directly__reverts_only_governance(
    guard: Any, signers: list[Any], stranger: Any, trader: Any, caller_kind: str
) -> None:
    caller = signers[0] if caller_kind == "signer" else stranger

    with ape.reverts(guard.OnlyGovernance, caller=caller):
        guard.migrateFrom1_0([trader], sender=caller)


@pytest.mark.parametrize("caller_kind", ["signer", "stranger"])
def test_upgrade__called_directly__reverts_only_governance(
    guard: Any, v2_implementation: Any, signers: list[Any], stranger: Any, chain: Any, caller_kind: str
) -> None:
    caller = signers[0] if caller_kind == "signer" else stranger
    implementation_before = _implementation(chain, guard)

    with ape.reverts(guard.OnlyGovernance, caller=caller):
        guard.upgradeToAndCall(v2_implementation, b"", sender=caller)

    assert _implementation(chain, guard) == implementation_before
    assert guard.version() == "1.1.0"


def test_upgrade__to_non_uups_contract__reverts_invalid_implementation(
    guard: Any, gov: Governance, token: Any, chain: Any
) -> None:
    implementation_before = _implementation(chain, guard)

    # ape sees this error twice (proxy ABI and implementation ABI), so it needs the signature look-up
    invalid_implementation = guard.get_error_by_signature(
        "ERC1967InvalidImplementation(address implementation)"
    )

    with ape.reverts(invalid_implementation, implementation=token):
        gov(guard.upgradeToAndCall, token, b"")

    assert _implementation(chain, guard) == implementation_before
    assert guard.version() == "1.1.0"


def test_upgrade__on_implementation_directly__reverts_unauthorized_call_context(
    guard: Any, v2_implementation: Any, project: Any, chain: Any, signers: list[Any]
) -> None:
    implementation = project.LeverageGuard.at(_implementation(chain, guard))

    with ape.reverts(implementation.UUPSUnauthorizedCallContext):
        implementation.upgradeToAndCall(v2_implementation, b"", sender=signers[0])


def test_proxiable_uuid__through_proxy__reverts_unauthorized_call_context(
    guard: Any, project: Any, chain: Any
) -> None:
    implementation = project.LeverageGuard.at(_implementation(chain, guard))

    with ape.reverts(guard.UUPSUnauthorizedCallContext):
        guard.proxiableUUID()
    assert implementation.proxiableUUID() == IMPLEMENTATION_SLOT.to_bytes(32, "big")


def test_v2_implementation__cannot_be_initialised(
    v2_implementation: Any, project: Any, token: Any, stranger: Any
) -> None:
    whole = as_guard(project, v2_implementation.address)
    with ape.reverts(whole.InvalidInitialization):
        whole.initialize(token, [stranger], 1, sender=stranger)

    assert v2_implementation.version() == "2.0.0"
    assert v2_implementation.v2Marker() == V2_MARKER


def test_upgrade__verdict_posted_after_upgrade__uses_kept_policy(
    v2: Any,
    guard: Any,
    gov: Governance,
    file_claim: Any,
    v2_implementation: Any,
    project: Any,
    validator: Any,
    trader: Any,
) -> None:
    claim_id = file_claim(2_000 * USDT)
    gov(guard.upgradeToAndCall, v2_implementation, b"")
    upgraded = _v2_at(v2, guard.address)

    upgraded.postVerification(claim_id, True, 1_500 * USDT, EVIDENCE, 0, sender=validator)

    assert guard.reservedAmount() == 1_500 * USDT
    assert guard.remainingCoverage(trader) == 10_000 * USDT - 1_500 * USDT


def test_implementation__admin_without_code__reverts_zero_address(
    project: Any, deployer: Any, stranger: Any, guard: Any
) -> None:
    """LeverageGuard's constructor refuses an admin half that is not a contract (its fallback would
    delegate every admin selector into nothing)."""
    with ape.reverts(guard.ZeroAddress):
        deployer.deploy(project.LeverageGuard, stranger)
    with ape.reverts(guard.ZeroAddress):
        deployer.deploy(project.LeverageGuard, "0x0000000000000000000000000000000000000000")


def test_upgrade__new_pair__admin_selectors_served_by_the_new_admin(
    guard: Any, gov: Governance, v2_implementation: Any, project: Any, chain: Any
) -> None:
    old_admin = guard.ADMIN()

    gov(guard.upgradeToAndCall, v2_implementation, b"")

    assert guard.ADMIN() == v2_implementation.ADMIN() != old_admin
    # Admin-half views and setters keep working through the new pair, in the proxy's storage.
    assert guard.challengePeriod() == CHALLENGE_PERIOD
    Governance(guard, gov.signers)(guard.setChallengePeriod, 2 * CHALLENGE_PERIOD)
    assert guard.challengePeriod() == 2 * CHALLENGE_PERIOD
