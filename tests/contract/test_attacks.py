"""Attacks on LeverageGuard: re-entrant and fee-on-transfer pool assets, proposals calling back into the
multisig, replays, duplicate claims, batch griefing, bad upgrades and the storage layout across an upgrade.

The hostile contracts live in `tests/fixture_contracts/` (compiled by `tests/contract/conftest.py`, never
deployed by scripts); each hostile asset gets a deployment of its own.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from ape.contracts import ContractInstance
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from support.pool import (
    ACCOUNT_REF,
    APPROVED,
    BINANCE,
    CHALLENGE_PERIOD,
    DAY,
    EVIDENCE,
    OKX,
    PAID,
    PENDING,
    REJECTED,
    SKIP_CHALLENGE_WINDOW_OPEN,
    SKIP_WRONG_STATUS,
    USDT,
    as_guard,
    configure,
    deploy_guard,
    deploy_pair,
    deploy_upgrade_target,
)

LEVERAGE_GUARD_SLOT = 0x61E2C9BFC8811B94D687F6922BC0DE4C1384E9A7327CF9C6F33A1843FA9E8800
MULTISIG_SLOT = 0xC8B7DC1AB75E1D1703093DBDE91762021AE683D2BCA77D5B9F0ABA44C1B00000
V2_SLOT = 0xF03E1F7E5299F06034E01EC2472FC75121C3097681C3547C8C2BC0BFD8C2E800
# bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)
IMPLEMENTATION_SLOT = 0x360894A13BA1A3210667C828492DB98DCA3E2076CC3735A920A3CA505D382BBC
# OpenZeppelin's Initializable namespace (erc7201:openzeppelin.storage.Initializable)
INITIALIZABLE_SLOT = 0xF0C57E16840DF040F15088DC2F81FE391C3923BEC73E23A9662EFC9C229C6A00

POOL = 100_000 * USDT
PAYOUT_1 = 800 * USDT
PAYOUT_2 = 500 * USDT


def erc7201(namespace: str) -> int:
    """keccak256(abi.encode(uint256(keccak256(id)) - 1)) & ~bytes32(uint256(0xff))."""
    inner = int.from_bytes(keccak(text=namespace), "big") - 1
    return int.from_bytes(keccak(encode(["uint256"], [inner])), "big") & ~0xFF


def error_data(signature: str, types: list[str] | None = None, values: list[Any] | None = None) -> bytes:
    """ABI-encoded custom error, as a contract returns it as revert data."""
    return keccak(text=signature)[:4] + (encode(types, values) if types else b"")


def raw_word(chain: Any, address: Any, slot: int) -> int:
    value = chain.provider.get_storage(address, slot)
    return int.from_bytes(bytes(value), "big") if not isinstance(value, int) else value


def invalid_implementation(guard: Any) -> Any:
    """ERC1967InvalidImplementation is known twice at the proxy address (implementation and proxy ABI)."""
    return guard.get_error_by_signature("ERC1967InvalidImplementation(address implementation)")


def implementation_of(chain: Any, guard: Any) -> str:
    return to_checksum_address(raw_word(chain, guard.address, IMPLEMENTATION_SLOT).to_bytes(32, "big")[12:])


def run_as_governance(guard: Any, signers: list[Any], target: Any, data: bytes) -> tuple[int, Any]:
    """Proposes (signer 0), confirms (signer 1); returns the id and a thunk executing it (signer 0)."""
    proposal_id = int(guard.propose(target, 0, data, sender=signers[0]).return_value)
    guard.confirm(proposal_id, sender=signers[1])
    return proposal_id, lambda: guard.execute(proposal_id, sender=signers[0])


# =============================================================================== re-entrant asset


@pytest.fixture(scope="module")
def evil(
    project: Any,
    test_contracts: dict[str, Any],
    deployer: Any,
    signers: list[Any],
    guardian: Any,
    validator: Any,
    registrar: Any,
    trader: Any,
    other_trader: Any,
    sponsor: Any,
    chain: Any,
) -> dict[str, Any]:
    """A pool whose asset is ReentrantToken, funded, with two approved claims whose windows are over:
    claim 1 (trader, PAYOUT_1) and claim 2 (other_trader, PAYOUT_2)."""
    token = deployer.deploy(test_contracts["ReentrantToken"])
    guard = deploy_guard(project, deployer, token, signers, 2)
    configure(guard, signers, guardian, validator, registrar)
    token.mint(sponsor, POOL + 1_000 * USDT, sender=sponsor)
    token.approve(guard, POOL + 1_000 * USDT, sender=sponsor)
    guard.deposit(POOL, sender=sponsor)
    end = int(chain.pending_timestamp) + 30 * DAY
    guard.addToWhitelist(
        [trader, other_trader], [ACCOUNT_REF, b"\xcd" * 32], 10_000 * USDT, end, sender=registrar
    )
    for order, who, payout in (("evil-1", trader, PAYOUT_1), ("evil-2", other_trader, PAYOUT_2)):
        claim_id = int(guard.submitClaim(OKX, order, "BTC-USDT-SWAP", 1_000 * USDT, sender=who).return_value)
        guard.postVerification(claim_id, True, payout, EVIDENCE, 0, sender=validator)
    chain.mine(timestamp=int(chain.pending_timestamp) + CHALLENGE_PERIOD)
    return {"guard": guard, "token": token}


REENTRIES = ("executePayout", "executePayouts", "withdraw", "execute")
OUTERS = ("executePayout", "executePayouts", "withdraw", "deposit")


def _reentry_call(guard: Any, token: Any, signers: list[Any], reentry: str) -> tuple[bytes, bytes]:
    """The re-entry's calldata (each would succeed if made by an authorised caller outside a guarded call)
    and the exact revert data expected when the token makes it from inside a pool transfer."""
    if reentry == "executePayout":
        return guard.executePayout.encode_input(2), error_data("ReentrancyGuardReentrantCall()")
    if reentry == "executePayouts":
        return guard.executePayouts.encode_input([2]), error_data("ReentrancyGuardReentrantCall()")
    if reentry == "withdraw":
        data = guard.withdraw.encode_input(token, 1_000 * USDT)
        return data, error_data("OnlyGovernance(address)", ["address"], [token.address])
    # execute: a fully confirmed proposal paying the token 1,000 units.
    proposal_id, _ = run_as_governance(
        guard, signers, guard, guard.withdraw.encode_input(token, 1_000 * USDT)
    )
    data = guard.execute.encode_input(proposal_id)
    return data, error_data("NotSigner(address)", ["address"], [token.address])


def _outer(guard: Any, token: Any, signers: list[Any], stranger: Any, sponsor: Any, outer: str) -> Any:
    """A thunk running the outer operation whose token transfer re-enters."""
    if outer == "executePayout":
        return lambda: guard.executePayout(1, sender=stranger)
    if outer == "executePayouts":
        return lambda: guard.executePayouts([1], sender=stranger)
    if outer == "withdraw":
        _, run = run_as_governance(guard, signers, guard, guard.withdraw.encode_input(sponsor, 1_000 * USDT))
        return run
    return lambda: guard.deposit(1_000 * USDT, sender=sponsor)


def _balances(evil: dict[str, Any], *accounts: Any) -> dict[str, int]:
    token = evil["token"]
    return {str(a.address): int(token.balanceOf(a)) for a in (evil["guard"], token, *accounts)}


@pytest.mark.parametrize("reentry", REENTRIES)
@pytest.mark.parametrize("outer", OUTERS)
def test_reentrant_token__reentry_fails__outer_effect_exact(
    evil, signers, stranger, sponsor, trader, other_trader, outer, reentry
):
    """The token re-enters from inside the pool's transfer; the re-entry fails with the exact error, the token
    swallows it, and the outer operation completes with exactly its own effect."""
    guard, token = evil["guard"], evil["token"]
    data, expected_revert = _reentry_call(guard, token, signers, reentry)
    run = _outer(guard, token, signers, stranger, sponsor, outer)
    before = _balances(evil, trader, other_trader, sponsor)
    token.arm(guard, data, False, sender=stranger)

    run()

    assert token.reentryCount() == 1
    assert token.lastSuccess() is False
    assert bytes(token.lastRevertData()) == expected_revert
    after = _balances(evil, trader, other_trader, sponsor)
    delta = {account: after[account] - before[account] for account in after}
    expected = dict.fromkeys(delta, 0)
    if outer in ("executePayout", "executePayouts"):
        expected[str(guard.address)] = -PAYOUT_1
        expected[str(trader.address)] = PAYOUT_1
        assert guard.getClaim(1).status == PAID
        assert guard.reservedAmount() == PAYOUT_2
    elif outer == "withdraw":
        expected[str(guard.address)] = -1_000 * USDT
        expected[str(sponsor.address)] = 1_000 * USDT
        assert guard.withdrawnToday() == 1_000 * USDT
    else:
        expected[str(guard.address)] = 1_000 * USDT
        expected[str(sponsor.address)] = -1_000 * USDT
    assert delta == expected
    # The re-entered claim 2 is untouched and still payable: only the guard stopped the re-entry.
    assert guard.getClaim(2).status == APPROVED
    if outer not in ("executePayout", "executePayouts"):
        assert guard.reservedAmount() == PAYOUT_1 + PAYOUT_2
    guard.executePayout(2, sender=stranger)
    assert token.balanceOf(other_trader) == before[str(other_trader.address)] + PAYOUT_2


@pytest.mark.parametrize("reentry", REENTRIES)
@pytest.mark.parametrize("outer", ("withdraw", "deposit"))
def test_reentrant_token__reentry_revert_bubbles__whole_operation_reverts(
    evil, signers, stranger, sponsor, trader, other_trader, outer, reentry
):
    """A token that re-throws the re-entry's error makes withdraw and deposit revert with it (SafeERC20
    and `execute` bubble revert data); nothing moves."""
    guard, token = evil["guard"], evil["token"]
    data, _ = _reentry_call(guard, token, signers, reentry)
    run = _outer(guard, token, signers, stranger, sponsor, outer)
    before = _balances(evil, trader, other_trader, sponsor)
    reserved = guard.reservedAmount()
    token.arm(guard, data, True, sender=stranger)
    if reentry in ("executePayout", "executePayouts"):
        expectation = ape.reverts(guard.ReentrancyGuardReentrantCall)
    elif reentry == "withdraw":
        expectation = ape.reverts(guard.OnlyGovernance, caller=token.address)
    else:
        expectation = ape.reverts(guard.NotSigner, account=token.address)

    with expectation:
        run()

    assert _balances(evil, trader, other_trader, sponsor) == before
    assert guard.reservedAmount() == reserved
    assert guard.getClaim(1).status == APPROVED
    assert guard.getClaim(2).status == APPROVED
    assert token.armed() is True  # the arming itself was rolled back with the rest


@pytest.mark.parametrize("reentry", REENTRIES)
def test_reentrant_token__refused_single_payout__reverts_payout_transfer_failed(
    evil, signers, stranger, sponsor, trader, other_trader, reentry
):
    """executePayout uses trySafeTransfer: a transfer the token refuses (here: it re-throws its failed
    re-entry) reverts with PayoutTransferFailed(claimId), not the token's error; nothing moves."""
    guard, token = evil["guard"], evil["token"]
    data, _ = _reentry_call(guard, token, signers, reentry)
    before = _balances(evil, trader, other_trader, sponsor)
    token.arm(guard, data, True, sender=stranger)

    with ape.reverts(guard.PayoutTransferFailed, claimId=1):
        guard.executePayout(1, sender=stranger)

    assert _balances(evil, trader, other_trader, sponsor) == before
    assert guard.reservedAmount() == PAYOUT_1 + PAYOUT_2
    assert guard.paidOutToday() == 0
    assert guard.getClaim(1).status == APPROVED
    assert token.armed() is True


@pytest.mark.parametrize("reentry", REENTRIES)
def test_reentrant_token__refused_batch_payout__payout_failed_claims_stay_approved(
    evil, signers, stranger, sponsor, trader, other_trader, reentry
):
    """executePayouts uses trySafeTransfer per claim: a refused transfer (here the token re-throws its failed
    re-entry, and stays armed because that revert rolls back its own disarming, so it refuses both) emits
    PayoutFailed, leaves the claim Approved and reserved and keeps it out of the day's payout total; the
    batch itself succeeds and nothing moves."""
    guard, token = evil["guard"], evil["token"]
    data, _ = _reentry_call(guard, token, signers, reentry)
    before = _balances(evil, trader, other_trader, sponsor)
    token.arm(guard, data, True, sender=stranger)

    receipt = guard.executePayouts([1, 2], sender=stranger)

    assert [log for log in receipt.events if log.contract_address == guard.address] == [
        guard.PayoutFailed(claimId=1, user=trader, amount=PAYOUT_1),
        guard.PayoutFailed(claimId=2, user=other_trader, amount=PAYOUT_2),
    ]
    assert _balances(evil, trader, other_trader, sponsor) == before
    assert [guard.getClaim(i).status for i in (1, 2)] == [APPROVED, APPROVED]
    assert guard.reservedAmount() == PAYOUT_1 + PAYOUT_2
    assert guard.paidOutToday() == 0
    assert guard.getPolicy(trader).used == PAYOUT_1
    assert token.armed() is True
    assert token.reentryCount() == 0
    # Once the token stops refusing, both are paid.
    token.arm(guard, b"", False, sender=stranger)
    guard.executePayouts([1, 2], sender=stranger)
    assert [guard.getClaim(i).status for i in (1, 2)] == [PAID, PAID]
    assert guard.reservedAmount() == 0
    assert guard.paidOutToday() == PAYOUT_1 + PAYOUT_2


def test_rescue_token__reentrant_stray_token__reentry_fails(
    guard, gov, token, test_contracts, deployer, approved_claim, trader, sponsor, stranger, chain
):
    """rescueToken is the pool's other outgoing transfer: a hostile stray token re-entering a payout from it
    hits the reentrancy guard; the rescue itself completes and the claim stays payable."""
    stray = deployer.deploy(test_contracts["ReentrantToken"])
    stray.mint(guard, 5 * USDT, sender=deployer)
    chain.mine(timestamp=int(chain.pending_timestamp) + CHALLENGE_PERIOD)
    proposal_id = gov.propose(guard.rescueToken, stray, sponsor, 5 * USDT)
    guard.confirm(proposal_id, sender=gov.signers[1])
    stray.arm(guard, guard.executePayout.encode_input(approved_claim), False, sender=stranger)

    guard.execute(proposal_id, sender=gov.signers[0])

    assert stray.reentryCount() == 1
    assert bytes(stray.lastRevertData()) == error_data("ReentrancyGuardReentrantCall()")
    assert stray.balanceOf(sponsor) == 5 * USDT
    assert stray.balanceOf(guard) == 0
    assert guard.getClaim(approved_claim).status == APPROVED
    guard.executePayout(approved_claim, sender=stranger)
    assert token.balanceOf(trader) == 800 * USDT


# =============================================================================== multisig call-backs


def test_proposal_calling_execute__contract_is_not_signer__reverts(guard, gov, signers):
    """A proposal whose call is `execute(otherId)` runs with msg.sender = the pool, which is no signer."""
    other_id = gov.propose(guard.setChallengePeriod, 7_200)
    guard.confirm(other_id, sender=signers[1])
    outer_id, run = run_as_governance(guard, signers, guard, guard.execute.encode_input(other_id))

    with ape.reverts(guard.NotSigner, account=guard.address):
        run()

    assert guard.getProposal(outer_id).executed is False
    assert guard.getProposal(other_id).executed is False
    guard.execute(other_id, sender=signers[2])
    assert guard.challengePeriod() == 7_200


def test_proposal_calling_execute_on_itself__reverts(guard, signers):
    own_id = guard.proposalCount() + 1
    proposal_id, run = run_as_governance(guard, signers, guard, guard.execute.encode_input(own_id))
    assert proposal_id == own_id

    with ape.reverts(guard.NotSigner, account=guard.address):
        run()

    assert guard.getProposal(own_id).executed is False


@pytest.mark.parametrize("call", ["propose", "confirm", "revokeConfirmation"])
def test_proposal_calling_signer_function__reverts(guard, gov, signers, call):
    other_id = gov.propose(guard.setChallengePeriod, 7_200)
    if call == "propose":
        data = guard.propose.encode_input(guard, 0, guard.setChallengePeriod.encode_input(60))
    else:
        data = getattr(guard, call).encode_input(other_id)
    count = guard.proposalCount()
    _, run = run_as_governance(guard, signers, guard, data)

    with ape.reverts(guard.NotSigner, account=guard.address):
        run()

    assert guard.proposalCount() == count + 1
    assert guard.getProposal(other_id).confirmations == 1


def test_proposal_calling_add_signer__works(guard, signers, stranger):
    proposal_id, run = run_as_governance(guard, signers, guard, guard.addSigner.encode_input(stranger))

    receipt = run()

    assert receipt.events == [
        guard.ProposalExecuted(proposalId=proposal_id, executor=signers[0]),
        guard.SignerAdded(signer=stranger),
    ]
    assert guard.isSigner(stranger) is True
    assert guard.getSigners() == [*(s.address for s in signers), stranger.address]
    # The new signer's confirmation counts at once.
    new_id = int(
        guard.propose(guard, 0, guard.setChallengePeriod.encode_input(7_200), sender=stranger).return_value
    )
    guard.confirm(new_id, sender=signers[2])
    guard.execute(new_id, sender=stranger)
    assert guard.challengePeriod() == 7_200


def test_proposal_calling_cancel__governance_cancels_other_proposal(guard, gov, signers):
    other_id = gov.propose(guard.setChallengePeriod, 7_200)
    _, run = run_as_governance(guard, signers, guard, guard.cancel.encode_input(other_id))

    run()

    assert guard.getProposal(other_id).cancelled is True
    with ape.reverts(guard.ProposalAlreadyCancelled, proposalId=other_id):
        guard.confirm(other_id, sender=signers[1])


# =============================================================================== replay


def test_replay_executed_proposal__reverts(guard, token, signers, sponsor):
    proposal_id, run = run_as_governance(
        guard, signers, guard, guard.withdraw.encode_input(sponsor, 1_000 * USDT)
    )
    run()
    assert token.balanceOf(sponsor) == 1_000 * USDT

    for signer in signers:
        with ape.reverts(guard.ProposalAlreadyExecuted, proposalId=proposal_id):
            guard.execute(proposal_id, sender=signer)
    with ape.reverts(guard.ProposalAlreadyExecuted, proposalId=proposal_id):
        guard.confirm(proposal_id, sender=signers[2])
    with ape.reverts(guard.ProposalAlreadyExecuted, proposalId=proposal_id):
        guard.revokeConfirmation(proposal_id, sender=signers[1])
    with ape.reverts(guard.ProposalAlreadyExecuted, proposalId=proposal_id):
        guard.cancel(proposal_id, sender=signers[0])

    assert token.balanceOf(sponsor) == 1_000 * USDT
    assert guard.withdrawnToday() == 1_000 * USDT


# =============================================================================== fee-on-transfer asset


def test_deposit__fee_on_transfer_token__reverts(project, test_contracts, deployer, signers, sponsor):
    """By design LeverageGuard supports only assets that move exactly the requested amount: a deposit
    measures what arrived and reverts with UnsupportedTokenTransfer(expected, received) otherwise, so a
    fee-on-transfer (or rebasing-down) asset can never be pooled and the accounting never overstates funds."""
    token = deployer.deploy(test_contracts["FeeOnTransferToken"])
    guard = deploy_guard(project, deployer, token, signers, 2)
    token.mint(sponsor, 1_000 * USDT, sender=sponsor)
    token.approve(guard, 1_000 * USDT, sender=sponsor)

    with ape.reverts(guard.UnsupportedTokenTransfer, expected=1_000 * USDT, received=990 * USDT):
        guard.deposit(1_000 * USDT, sender=sponsor)

    assert token.balanceOf(sponsor) == 1_000 * USDT
    assert token.balanceOf(guard) == 0
    assert guard.totalAssets() == 0


# =============================================================================== duplicate claims


def test_submit_claim__same_order_twice__reverts(insured, file_claim, trader):
    first = file_claim(1_000 * USDT, by=trader, order_id="ORD-1")

    with ape.reverts(insured.DuplicateClaim, existingClaimId=first):
        insured.submitClaim(OKX, "ORD-1", "BTC-USDT-SWAP", 5 * USDT, sender=trader)

    assert insured.claimCount() == first
    assert insured.claimIdByOrder(OKX, ACCOUNT_REF, "BTC-USDT-SWAP", "ORD-1") == first
    # The same id on another exchange is another order.
    second = file_claim(1_000 * USDT, by=trader, exchange=BINANCE, order_id="ORD-1")
    assert second == first + 1
    assert insured.claimIdByOrder(BINANCE, ACCOUNT_REF, "BTC-USDT-SWAP", "ORD-1") == second


OTHER_SPELLINGS = ["btc-usdt-swap", "BTC-USDT-SWAP ", " BTC-USDT-SWAP", "BTC\u2010USDT-SWAP"]


@pytest.mark.parametrize("spelling", OTHER_SPELLINGS)
def test_submit_claim__same_order_other_spelling__refused(insured, file_claim, trader, spelling):
    """The instrument is part of the key, so only one spelling is accepted: upper-case [A-Z0-9-_]."""
    file_claim(1_000 * USDT, by=trader, order_id="ORD-1")

    with ape.reverts(insured.InvalidInstrument, instrument=spelling):
        insured.submitClaim(OKX, "ORD-1", spelling, 5 * USDT, sender=trader)


def test_whitelist__another_trader_with_my_account_ref__refused(insured, registrar, trader, stranger, chain):
    """Claiming someone else's order needs their accountRef: it is bound to them while they may file."""
    end = int(chain.pending_timestamp) + 30 * DAY

    with ape.reverts(insured.AccountRefInUse, accountRef=ACCOUNT_REF, holder=trader):
        insured.addToWhitelist([stranger], [ACCOUNT_REF], 1_000 * USDT, end, sender=registrar)


def test_submit_claim__order_of_rejected_claim__stays_taken(insured, file_claim, validator, trader):
    first = file_claim(1_000 * USDT, order_id="ORD-R")
    insured.postVerification(first, False, 0, EVIDENCE, 7, sender=validator)
    assert insured.getClaim(first).status == REJECTED

    with ape.reverts(insured.DuplicateClaim, existingClaimId=first):
        insured.submitClaim(OKX, "ORD-R", "BTC-USDT-SWAP", 1_000 * USDT, sender=trader)


# =============================================================================== batch griefing


def test_post_verifications__unknown_claim_in_batch__reverts_whole_batch(insured, file_claim, validator):
    good = file_claim(1_000 * USDT)
    items = [(good, True, 800 * USDT, EVIDENCE, 0), (999, True, 800 * USDT, EVIDENCE, 0)]

    with ape.reverts(insured.InvalidClaimStatus, claimId=999, status=0):
        insured.postVerifications(items, sender=validator)

    assert insured.getClaim(good).status == PENDING
    assert insured.reservedAmount() == 0
    insured.postVerifications(items[:1], sender=validator)
    assert insured.getClaim(good).status == APPROVED


def test_execute_payouts__bad_items__skipped_rest_paid(
    insured, file_claim, validator, token, trader, stranger, chain
):
    ids = [file_claim(1_000 * USDT) for _ in range(3)]
    insured.postVerification(ids[0], True, 800 * USDT, EVIDENCE, 0, sender=validator)
    insured.postVerification(ids[1], True, 300 * USDT, EVIDENCE, 0, sender=validator)
    chain.pending_timestamp += CHALLENGE_PERIOD
    insured.postVerification(ids[2], True, 100 * USDT, EVIDENCE, 0, sender=validator)  # window still open
    pool = token.balanceOf(insured)
    batch = [ids[0], ids[2], 999, ids[1], ids[0]]

    receipt = insured.executePayouts(batch, sender=stranger)

    assert receipt.events == [
        token.Transfer(insured, trader, 800 * USDT),
        insured.PayoutExecuted(claimId=ids[0], user=trader, amount=800 * USDT),
        insured.PayoutSkipped(claimId=ids[2], reason=SKIP_CHALLENGE_WINDOW_OPEN),
        insured.PayoutSkipped(claimId=999, reason=SKIP_WRONG_STATUS),
        token.Transfer(insured, trader, 300 * USDT),
        insured.PayoutExecuted(claimId=ids[1], user=trader, amount=300 * USDT),
        insured.PayoutSkipped(claimId=ids[0], reason=SKIP_WRONG_STATUS),
    ]
    assert token.balanceOf(trader) == 1_100 * USDT
    assert token.balanceOf(insured) == pool - 1_100 * USDT
    assert insured.reservedAmount() == 100 * USDT
    assert [insured.getClaim(i).status for i in ids] == [PAID, PAID, APPROVED]


# =============================================================================== bad upgrades


def _upgrade(guard: Any, signers: list[Any], implementation: Any, data: bytes = b"") -> Any:
    return run_as_governance(guard, signers, guard, guard.upgradeToAndCall.encode_input(implementation, data))


def test_upgrade__non_uups_implementation__reverts(guard, signers, deployer, test_contracts, chain):
    before = implementation_of(chain, guard)
    bad = deployer.deploy(test_contracts["NonUUPSImplementation"])
    _, run = _upgrade(guard, signers, bad)

    with ape.reverts(invalid_implementation(guard), implementation=bad.address):
        run()

    assert implementation_of(chain, guard) == before
    assert guard.version() == "1.1.0"


def test_upgrade__wrong_proxiable_uuid__reverts(guard, signers, deployer, test_contracts, chain):
    before = implementation_of(chain, guard)
    bad = deployer.deploy(test_contracts["WrongUUIDImplementation"])
    _, run = _upgrade(guard, signers, bad)

    with ape.reverts(guard.UUPSUnsupportedProxiableUUID, slot=bad.WRONG_SLOT()):
        run()

    assert implementation_of(chain, guard) == before


def test_upgrade__to_eoa__reverts(guard, signers, stranger, chain):
    before = implementation_of(chain, guard)
    _, run = _upgrade(guard, signers, stranger)

    with ape.reverts(invalid_implementation(guard), implementation=stranger.address):
        run()

    assert implementation_of(chain, guard) == before


def test_upgrade__called_on_implementation__reverts(guard, signers, chain, project, deployer):
    """The implementation itself refuses UUPS calls and initialisation (no takeover of the logic contract)."""
    implementation = as_guard(project, implementation_of(chain, guard))
    spare, _ = deploy_pair(project, deployer)

    with ape.reverts(implementation.UUPSUnauthorizedCallContext):
        implementation.upgradeToAndCall(spare, b"", sender=signers[0])
    with ape.reverts(implementation.InvalidInitialization):
        implementation.initialize(guard.asset(), [signers[0]], 1, sender=signers[0])
    admin = as_guard(project, implementation.ADMIN())
    with ape.reverts(admin.InvalidInitialization):
        admin.initialize(guard.asset(), [signers[0]], 1, sender=signers[0])


# =============================================================================== storage layout across V2


def test_storage_namespaces__match_erc7201_formula(test_contracts):
    assert erc7201("leverageguard.storage.LeverageGuard") == LEVERAGE_GUARD_SLOT
    assert erc7201("leverageguard.storage.MultisigGovernance") == MULTISIG_SLOT
    assert erc7201("leverageguard.storage.LeverageGuardV2Test") == V2_SLOT
    assert erc7201("openzeppelin.storage.Initializable") == INITIALIZABLE_SLOT
    abi = test_contracts["LeverageGuardV2Namespaced"].contract_type.abi
    assert any(item.name == "V2_STORAGE_LOCATION" for item in abi if item.type == "function")


def _v1_views(
    guard: Any, accounts: list[Any], claim_ids: list[int], proposal_ids: list[int]
) -> dict[str, Any]:
    roles = [guard.GUARDIAN_ROLE(), guard.VALIDATOR_ROLE(), guard.REGISTRAR_ROLE(), b"\x00" * 32]
    return {
        "asset": guard.asset(),
        "totalAssets": guard.totalAssets(),
        "reserved": guard.reservedAmount(),
        "free": guard.freeBalance(),
        "withdrawnToday": guard.withdrawnToday(),
        "paidOutToday": guard.paidOutToday(),
        "limits": (guard.dailyWithdrawalLimit(), guard.dailyPayoutLimit(), guard.maxPayoutPerClaim()),
        "challengePeriod": guard.challengePeriod(),
        "pausedFlags": guard.pausedFlags(),
        "claimCount": guard.claimCount(),
        "claims": [tuple(guard.getClaim(i)) for i in claim_ids],
        "orders": [guard.claimIdByOrder(OKX, ACCOUNT_REF, "BTC-USDT-SWAP", f"layout-{i}") for i in range(4)],
        "policies": [tuple(guard.getPolicy(a)) for a in accounts],
        "flags": [(guard.isWhitelisted(a), guard.isBlacklisted(a)) for a in accounts],
        "roles": [[guard.hasRole(role, a) for role in roles] for a in [*accounts, guard]],
        "signers": guard.getSigners(),
        "threshold": guard.threshold(),
        "lifetime": guard.proposalLifetime(),
        "proposalCount": guard.proposalCount(),
        "proposals": [tuple(guard.getProposal(i)) for i in proposal_ids],
        "confirmed": [[guard.hasConfirmed(i, a) for a in accounts] for i in proposal_ids],
    }


def test_upgrade_to_v2__v1_storage_unchanged(
    project,
    guard,
    gov,
    token,
    test_contracts,
    deployer,
    signers,
    trader,
    other_trader,
    validator,
    guardian,
    registrar,
    stranger,
    sponsor,
    chain,
    file_claim,
):
    """Upgrading to a V2 that keeps its state in its own ERC-7201 namespace leaves every V1 slot alone: the
    raw words at the base of both namespaces and everything the V1 views report are identical."""
    # V1 state of every kind: claims in each status, policies, blacklist, pause flags, daily counters,
    # proposals (open, cancelled, executed), a removed role.
    # `file_claim` brings `insured`: trader and other_trader are whitelisted.
    claims = [file_claim(1_000 * USDT, order_id=f"layout-{i}") for i in range(4)]
    guard.postVerification(claims[0], True, 800 * USDT, EVIDENCE, 0, sender=validator)
    guard.postVerification(claims[1], False, 0, EVIDENCE, 12, sender=validator)
    guard.postVerification(claims[2], True, 300 * USDT, EVIDENCE, 0, sender=validator)
    chain.pending_timestamp += CHALLENGE_PERIOD
    guard.executePayout(claims[0], sender=stranger)
    gov(guard.withdraw, sponsor, 2_000 * USDT)
    guard.addToBlacklist([other_trader], sender=guardian)
    guard.pause(16, sender=guardian)
    open_id = gov.propose(guard.setChallengePeriod, 7_200)
    cancelled_id = gov.propose(guard.setChallengePeriod, 10_800)
    guard.cancel(cancelled_id, sender=signers[0])
    gov(guard.revokeRole, guard.REGISTRAR_ROLE(), registrar)

    v2 = deploy_upgrade_target(project, deployer, test_contracts["LeverageGuardV2Namespaced"])
    init = v2.initializeV2.encode_input(0xC0FFEE)
    upgrade_id, run = _upgrade(guard, signers, v2, init)
    accounts = [trader, other_trader, validator, guardian, registrar, stranger, *signers]
    proposal_ids = [i for i in range(1, guard.proposalCount() + 1) if i != upgrade_id]
    views_before = _v1_views(guard, accounts, claims, proposal_ids)
    words = [*(LEVERAGE_GUARD_SLOT + i for i in range(10)), *(MULTISIG_SLOT + i for i in range(6))]
    raw_before = [raw_word(chain, guard.address, slot) for slot in words]
    assert raw_word(chain, guard.address, V2_SLOT) == 0
    assert raw_word(chain, guard.address, INITIALIZABLE_SLOT) == 2  # initialize is reinitializer(2)
    assert any(raw_before[:5]) and any(raw_before[8:10]) and any(raw_before[10:])

    receipt = run()

    upgraded = ContractInstance(guard.address, v2.contract_type)  # not cached: isolation reverts the upgrade
    assert [log.marker for log in receipt.decode_logs(upgraded.V2Initialized)] == [0xC0FFEE]
    assert implementation_of(chain, guard) == v2.address
    assert upgraded.version() == "2.0.0-namespaced"
    assert [raw_word(chain, guard.address, slot) for slot in words] == raw_before
    assert _v1_views(guard, accounts, claims, proposal_ids) == views_before
    assert guard.getProposal(upgrade_id).executed is True
    # V2's own state sits in V2's namespace, nowhere else.
    assert raw_word(chain, guard.address, V2_SLOT) == 0xC0FFEE
    assert upgraded.marker() == 0xC0FFEE
    assert raw_word(chain, guard.address, INITIALIZABLE_SLOT) == 3
    upgraded.setNote(42, sender=stranger)
    note_slot = int.from_bytes(keccak(encode(["address", "uint256"], [stranger.address, V2_SLOT + 1])), "big")
    assert raw_word(chain, guard.address, note_slot) == 42
    assert [raw_word(chain, guard.address, slot) for slot in words] == raw_before
    # V1 behaviour carries on: the approved claim is paid, the open proposal executes.
    upgraded.executePayout(claims[2], sender=stranger)
    assert token.balanceOf(trader) == 1_100 * USDT
    guard.confirm(open_id, sender=signers[1])
    guard.execute(open_id, sender=signers[1])
    assert guard.challengePeriod() == 7_200
    # The V2 initialiser cannot run again.
    _, rerun = run_as_governance(guard, signers, guard, init)
    with ape.reverts(upgraded.InvalidInitialization):
        rerun()
