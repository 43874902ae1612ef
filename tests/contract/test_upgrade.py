"""UUPS upgrades: only through an executed proposal, only to a UUPS implementation, state kept."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from lg_testkit import (
    CHALLENGE_PERIOD,
    EVIDENCE,
    OKX,
    PAUSE_DEPOSITS,
    USDT,
    Governance,
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
        "claimIdByOrder": guard.claimIdByOrder(OKX, "order-1"),
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
        "challengePeriod": guard.challengePeriod(),
        "pausedFlags": guard.pausedFlags(),
        "withdrawnToday": guard.withdrawnToday(),
        "paidOutToday": guard.paidOutToday(),
    }


@pytest.fixture
def v2(test_contracts: dict[str, Any]) -> Any:
    return test_contracts["LeverageGuardV2"]


@pytest.fixture
def v2_implementation(v2: Any, deployer: Any) -> Any:
    return deployer.deploy(v2)


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


def test_version__is_1_0_0(guard: Any, chain: Any, project: Any) -> None:
    implementation = project.LeverageGuard.at(_implementation(chain, guard))

    assert guard.version() == "1.0.0"
    assert implementation.version() == "1.0.0"
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
    upgraded = v2.at(guard.address)
    assert upgraded.version() == "2.0.0"
    assert upgraded.v2Marker() == V2_MARKER


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

    upgraded = v2.at(busy_guard.address)
    after = _snapshot(upgraded, accounts)
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
    upgraded = v2.at(guard.address)
    chain.pending_timestamp += CHALLENGE_PERIOD

    upgraded.executePayout(approved_claim, sender=trader)
    Governance(upgraded, signers)(upgraded.setThreshold, 3)

    assert token.balanceOf(trader) == 800 * USDT
    assert upgraded.reservedAmount() == 0
    assert upgraded.threshold() == 3


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


@pytest.mark.parametrize("caller_kind", ["signer", "stranger"])
def test_upgrade__called_directly__reverts_only_governance(
    guard: Any, v2_implementation: Any, signers: list[Any], stranger: Any, chain: Any, caller_kind: str
) -> None:
    caller = signers[0] if caller_kind == "signer" else stranger
    implementation_before = _implementation(chain, guard)

    with ape.reverts(guard.OnlyGovernance, caller=caller):
        guard.upgradeToAndCall(v2_implementation, b"", sender=caller)

    assert _implementation(chain, guard) == implementation_before
    assert guard.version() == "1.0.0"


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
    assert guard.version() == "1.0.0"


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


def test_v2_implementation__cannot_be_initialised(v2_implementation: Any, token: Any, stranger: Any) -> None:
    with ape.reverts(v2_implementation.InvalidInitialization):
        v2_implementation.initialize(token, [stranger], 1, sender=stranger)

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
    upgraded = v2.at(guard.address)

    upgraded.postVerification(claim_id, True, 1_500 * USDT, EVIDENCE, 0, sender=validator)

    assert upgraded.reservedAmount() == 1_500 * USDT
    assert upgraded.remainingCoverage(trader) == 10_000 * USDT - 1_500 * USDT
