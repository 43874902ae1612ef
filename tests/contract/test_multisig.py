"""The in-contract multisig: proposals, confirmations, execution, cancellation, signers, initialisation.

Most tests run against `ms`, a 2-of-3 LeverageGuard deployed by this module with no roles, limits or
proposals, so proposal ids start at 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ape
import pytest
from support.pool import (
    CLAIM_GRACE_PERIOD,
    DAY,
    DEFAULT_CHALLENGE_PERIOD,
    deploy_guard,
    deploy_pair,
    guard_at,
)

from keeper.interface import (
    DEFAULT_PROPOSAL_LIFETIME,
    MAX_EXECUTION_DELAY,
    MAX_PROPOSAL_LIFETIME,
    MAX_SIGNERS,
    MIN_PROPOSAL_LIFETIME,
)

ZERO_ADDRESS = "0x" + "00" * 20
UINT96_MAX = 2**96 - 1
HOUR = 3_600
DEFAULT_LIFETIME, MIN_LIFETIME, MAX_LIFETIME = (
    DEFAULT_PROPOSAL_LIFETIME,
    MIN_PROPOSAL_LIFETIME,
    MAX_PROPOSAL_LIFETIME,
)


def _address(i: int) -> str:
    """A distinct, non-zero address that is no test account."""
    return "0x" + f"{0xA11CE000 + i:040x}"


def _propose(ms: Any, proposer: Any, call: Any, *args: Any, target: Any = None, value: int = 0) -> int:
    receipt = ms.propose(target or ms, value, call.encode_input(*args), sender=proposer)
    return int(receipt.return_value)


def _as_governance(ms: Any, approvers: Sequence[Any], call: Any, *args: Any) -> Any:
    """Proposes as approvers[0], confirms with the rest, executes as approvers[0]; returns the receipt."""
    proposal_id = _propose(ms, approvers[0], call, *args)
    for approver in approvers[1:]:
        ms.confirm(proposal_id, sender=approver)
    return ms.execute(proposal_id, sender=approvers[0])


@pytest.fixture(scope="module")
def ms(project: Any, deployer: Any, token: Any, signers: list[Any]) -> Any:
    """A 2-of-3 LeverageGuard of this module's own, no proposals yet."""
    return deploy_guard(project, deployer, token, signers, 2)


@pytest.fixture
def ms5(project: Any, deployer: Any, token: Any, accounts: Any) -> Any:
    """A 3-of-5 LeverageGuard signed by accounts 0..4."""
    return deploy_guard(project, deployer, token, list(accounts[0:5]), 3)


@pytest.fixture
def proposal(ms: Any, signers: list[Any]) -> int:
    """Proposal 1 by signer 0: setThreshold(3). Confirmed by its proposer only."""
    return _propose(ms, signers[0], ms.setThreshold, 3)


# ====================================================================== propose


def test_propose__first_proposal__has_id_one_and_emits_created_and_confirmed(
    ms: Any, signers: list[Any]
) -> None:
    data = ms.setThreshold.encode_input(3)

    receipt = ms.propose(ms, 0, data, sender=signers[0])

    assert receipt.return_value == 1
    assert receipt.events == [
        ms.ProposalCreated(
            proposalId=1,
            proposer=signers[0],
            target=ms,
            value=0,
            data=data,
            expiresAt=receipt.timestamp + DEFAULT_LIFETIME,
        ),
        ms.ProposalConfirmed(proposalId=1, signer=signers[0]),
    ]


def test_propose__ids__increment_by_one(ms: Any, signers: list[Any]) -> None:
    ids = [_propose(ms, signers[i % 3], ms.setThreshold, 3) for i in range(4)]

    assert ids == [1, 2, 3, 4]
    assert ms.proposalCount() == 4


def test_propose__stores_proposal_fields(ms: Any, signers: list[Any]) -> None:
    data = ms.setThreshold.encode_input(3)

    receipt = ms.propose(ms, 7, data, sender=signers[2])

    view = ms.getProposal(1)
    assert view.target == ms.address
    assert view.value == 7
    assert view.data == data
    assert view.proposer == signers[2].address
    assert view.createdAt == receipt.timestamp
    assert view.expiresAt == receipt.timestamp + DEFAULT_LIFETIME
    assert view.confirmations == 1
    assert view.executed is False
    assert view.cancelled is False
    assert view.readyAt == 0


def test_propose__proposer_confirmation__counts(ms: Any, signers: list[Any], proposal: int) -> None:
    assert ms.hasConfirmed(proposal, signers[0]) is True
    assert ms.hasConfirmed(proposal, signers[1]) is False
    assert ms.getProposal(proposal).confirmations == 1

    ms.confirm(proposal, sender=signers[1])
    ms.execute(proposal, sender=signers[1])

    assert ms.threshold() == 3


def test_propose__by_stranger__reverts_not_signer(ms: Any, stranger: Any) -> None:
    with ape.reverts(ms.NotSigner, account=stranger):
        ms.propose(ms, 0, ms.setThreshold.encode_input(3), sender=stranger)


@pytest.mark.parametrize("target_name", ["zero", "token", "stranger"])
def test_propose__target_other_than_the_contract__reverts(
    ms: Any, signers: list[Any], token: Any, stranger: Any, target_name: str
) -> None:
    """GOV-TARGET: a proposal may only call the contract itself, so none can move the pool asset directly
    (token.transfer / token.approve) past withdraw's free-balance check and daily limit."""
    target = {"zero": ZERO_ADDRESS, "token": token.address, "stranger": stranger.address}[target_name]
    with ape.reverts(ms.InvalidProposalTarget, target=target):
        ms.propose(target, 0, token.transfer.encode_input(stranger, 1), sender=signers[0])

    assert ms.proposalCount() == 0


def test_propose__value_above_uint96__reverts(ms: Any, signers: list[Any]) -> None:
    with ape.reverts(ms.ValueTooLarge, value=UINT96_MAX + 1, max=UINT96_MAX):
        ms.propose(ms, UINT96_MAX + 1, b"", sender=signers[0])

    assert ms.proposalCount() == 0


def test_propose__value_at_uint96_max__is_stored(ms: Any, signers: list[Any], stranger: Any) -> None:
    ms.propose(ms, UINT96_MAX, b"", sender=signers[0])

    assert ms.getProposal(1).value == UINT96_MAX


def test_propose__lifetime_changed__applies_to_new_proposals_only(
    ms: Any, signers: list[Any], proposal: int
) -> None:
    old_expiry = ms.getProposal(proposal).expiresAt
    _as_governance(ms, signers[:2], ms.setProposalLifetime, DAY)

    receipt = ms.propose(ms, 0, b"", sender=signers[0])

    assert ms.getProposal(proposal).expiresAt == old_expiry
    assert ms.getProposal(receipt.return_value).expiresAt == receipt.timestamp + DAY


# ====================================================================== confirm


def test_confirm__by_other_signer__emits_and_counts(ms: Any, signers: list[Any], proposal: int) -> None:
    receipt = ms.confirm(proposal, sender=signers[1])

    assert receipt.events == [
        ms.ProposalConfirmed(proposalId=proposal, signer=signers[1]),
        ms.ProposalScheduled(proposalId=proposal, readyAt=receipt.timestamp),
    ]
    assert ms.hasConfirmed(proposal, signers[1]) is True
    assert ms.getProposal(proposal).confirmations == 2
    assert ms.getProposal(proposal).readyAt == receipt.timestamp


def test_confirm__twice__reverts_already_confirmed(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])

    with ape.reverts(ms.AlreadyConfirmed, proposalId=proposal, signer=signers[1]):
        ms.confirm(proposal, sender=signers[1])


def test_confirm__by_proposer__reverts_already_confirmed(ms: Any, signers: list[Any], proposal: int) -> None:
    with ape.reverts(ms.AlreadyConfirmed, proposalId=proposal, signer=signers[0]):
        ms.confirm(proposal, sender=signers[0])


# confirm and revokeConfirmation refuse strangers and unknown or closed proposals alike. Each row: the call,
# and the signer who could otherwise make it (signers[2] has not confirmed; signers[0] has, by proposing).
VOTES = [pytest.param("confirm", 2, id="confirm"), pytest.param("revokeConfirmation", 0, id="revoke")]


@pytest.mark.parametrize(("call", "voter"), VOTES)
def test_confirm_and_revoke__by_stranger__revert_not_signer(
    ms: Any, stranger: Any, proposal: int, call: str, voter: int
) -> None:
    with ape.reverts(ms.NotSigner, account=stranger):
        getattr(ms, call)(proposal, sender=stranger)


@pytest.mark.parametrize("proposal_id", [0, 2, 2**256 - 1])
@pytest.mark.parametrize(("call", "voter"), VOTES)
def test_confirm_and_revoke__unknown_proposal__revert(
    ms: Any, signers: list[Any], proposal: int, call: str, voter: int, proposal_id: int
) -> None:
    with ape.reverts(ms.UnknownProposal, proposalId=proposal_id):
        getattr(ms, call)(proposal_id, sender=signers[voter])


@pytest.mark.parametrize(("call", "voter"), VOTES)
def test_confirm_and_revoke__executed_proposal__revert(
    ms: Any, signers: list[Any], proposal: int, call: str, voter: int
) -> None:
    ms.confirm(proposal, sender=signers[1])
    ms.execute(proposal, sender=signers[1])

    with ape.reverts(ms.ProposalAlreadyExecuted, proposalId=proposal):
        getattr(ms, call)(proposal, sender=signers[voter])


@pytest.mark.parametrize(("call", "voter"), VOTES)
def test_confirm_and_revoke__cancelled_proposal__revert(
    ms: Any, signers: list[Any], proposal: int, call: str, voter: int
) -> None:
    ms.cancel(proposal, sender=signers[0])

    with ape.reverts(ms.ProposalAlreadyCancelled, proposalId=proposal):
        getattr(ms, call)(proposal, sender=signers[voter])


def test_confirm__at_expiry__reverts_expired(ms: Any, signers: list[Any], proposal: int, chain: Any) -> None:
    expires_at = ms.getProposal(proposal).expiresAt
    chain.pending_timestamp = expires_at

    with ape.reverts(ms.ProposalExpired, proposalId=proposal, expiresAt=expires_at):
        ms.confirm(proposal, sender=signers[1])


def test_confirm__one_second_before_expiry__succeeds(
    ms: Any, signers: list[Any], proposal: int, chain: Any
) -> None:
    chain.pending_timestamp = ms.getProposal(proposal).expiresAt - 1

    receipt = ms.confirm(proposal, sender=signers[1])

    assert receipt.events == [
        ms.ProposalConfirmed(proposalId=proposal, signer=signers[1]),
        ms.ProposalScheduled(proposalId=proposal, readyAt=receipt.timestamp),
    ]


# ====================================================================== revokeConfirmation


def test_revoke__confirmed__emits_and_execute_fails_threshold_not_met(
    ms: Any, signers: list[Any], proposal: int
) -> None:
    ms.confirm(proposal, sender=signers[1])

    receipt = ms.revokeConfirmation(proposal, sender=signers[1])

    assert receipt.events == [ms.ConfirmationRevoked(proposalId=proposal, signer=signers[1])]
    assert ms.hasConfirmed(proposal, signers[1]) is False
    assert ms.getProposal(proposal).confirmations == 1
    with ape.reverts(ms.ThresholdNotMet, proposalId=proposal, have=1, need=2):
        ms.execute(proposal, sender=signers[0])


def test_revoke__by_proposer__drops_own_confirmation(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])

    ms.revokeConfirmation(proposal, sender=signers[0])

    assert ms.getProposal(proposal).confirmations == 1
    with ape.reverts(ms.ThresholdNotMet, proposalId=proposal, have=1, need=2):
        ms.execute(proposal, sender=signers[1])


def test_revoke__then_confirm_again__counts(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])
    ms.revokeConfirmation(proposal, sender=signers[1])

    ms.confirm(proposal, sender=signers[1])
    ms.execute(proposal, sender=signers[1])

    assert ms.threshold() == 3


def test_revoke__not_confirmed__reverts(ms: Any, signers: list[Any], proposal: int) -> None:
    with ape.reverts(ms.NotConfirmed, proposalId=proposal, signer=signers[2]):
        ms.revokeConfirmation(proposal, sender=signers[2])


def test_revoke__twice__reverts_not_confirmed(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])
    ms.revokeConfirmation(proposal, sender=signers[1])

    with ape.reverts(ms.NotConfirmed, proposalId=proposal, signer=signers[1]):
        ms.revokeConfirmation(proposal, sender=signers[1])


def test_revoke__expired_proposal__reverts(ms: Any, signers: list[Any], proposal: int, chain: Any) -> None:
    expires_at = ms.getProposal(proposal).expiresAt
    chain.pending_timestamp = expires_at + DAY

    with ape.reverts(ms.ProposalExpired, proposalId=proposal, expiresAt=expires_at):
        ms.revokeConfirmation(proposal, sender=signers[0])


# ====================================================================== execute


def test_execute__below_threshold__reverts(ms: Any, signers: list[Any], proposal: int) -> None:
    with ape.reverts(ms.ThresholdNotMet, proposalId=proposal, have=1, need=2):
        ms.execute(proposal, sender=signers[0])

    assert ms.getProposal(proposal).executed is False


def test_execute__at_threshold__runs_call_and_emits(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])

    receipt = ms.execute(proposal, sender=signers[1])

    assert receipt.events == [
        ms.ProposalExecuted(proposalId=proposal, executor=signers[1]),
        ms.ThresholdChanged(previousThreshold=2, newThreshold=3),
    ]
    assert ms.threshold() == 3
    view = ms.getProposal(proposal)
    assert view.executed is True
    assert view.cancelled is False


def test_execute__by_signer_who_did_not_confirm__succeeds(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])

    receipt = ms.execute(proposal, sender=signers[2])

    assert ms.ProposalExecuted.from_receipt(receipt) == [
        ms.ProposalExecuted(proposalId=proposal, executor=signers[2])
    ]
    assert ms.hasConfirmed(proposal, signers[2]) is False


def test_execute__by_stranger__reverts_not_signer(
    ms: Any, signers: list[Any], stranger: Any, proposal: int
) -> None:
    ms.confirm(proposal, sender=signers[1])

    with ape.reverts(ms.NotSigner, account=stranger):
        ms.execute(proposal, sender=stranger)


def test_execute__twice__reverts_already_executed(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])
    ms.execute(proposal, sender=signers[0])

    with ape.reverts(ms.ProposalAlreadyExecuted, proposalId=proposal):
        ms.execute(proposal, sender=signers[0])


def test_execute__unknown_proposal__reverts(ms: Any, signers: list[Any]) -> None:
    with ape.reverts(ms.UnknownProposal, proposalId=1):
        ms.execute(1, sender=signers[0])


def test_execute__cancelled_proposal__reverts(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])
    ms.cancel(proposal, sender=signers[0])

    with ape.reverts(ms.ProposalAlreadyCancelled, proposalId=proposal):
        ms.execute(proposal, sender=signers[1])


def test_execute__after_lifetime__reverts_expired(
    ms: Any, signers: list[Any], proposal: int, chain: Any
) -> None:
    ms.confirm(proposal, sender=signers[1])
    expires_at = ms.getProposal(proposal).expiresAt
    chain.pending_timestamp += DEFAULT_LIFETIME

    with ape.reverts(ms.ProposalExpired, proposalId=proposal, expiresAt=expires_at):
        ms.execute(proposal, sender=signers[0])

    assert ms.threshold() == 2


def test_execute__one_second_before_expiry__succeeds(
    ms: Any, signers: list[Any], proposal: int, chain: Any
) -> None:
    ms.confirm(proposal, sender=signers[1])
    chain.pending_timestamp = ms.getProposal(proposal).expiresAt - 1

    ms.execute(proposal, sender=signers[0])

    assert ms.threshold() == 3


def test_execute__inner_revert__bubbles_custom_error_and_leaves_proposal_open(
    ms: Any, signers: list[Any]
) -> None:
    proposal_id = _propose(ms, signers[0], ms.setThreshold, 4)
    ms.confirm(proposal_id, sender=signers[1])

    with ape.reverts(ms.InvalidThreshold, threshold=4, signerCount=3):
        ms.execute(proposal_id, sender=signers[0])

    assert ms.threshold() == 2
    assert ms.getProposal(proposal_id).executed is False


def test_execute__returns_the_call_result(ms: Any, signers: list[Any]) -> None:
    proposal_id = _propose(ms, signers[0], ms.threshold)
    ms.confirm(proposal_id, sender=signers[1])

    receipt = ms.execute(proposal_id, sender=signers[0])

    assert receipt.return_value == (2).to_bytes(32, "big")


# ====================================================================== cancel


def test_cancel__by_proposer__emits_and_marks_cancelled(ms: Any, signers: list[Any], proposal: int) -> None:
    receipt = ms.cancel(proposal, sender=signers[0])

    assert receipt.events == [ms.ProposalCancelled(proposalId=proposal, by=signers[0])]
    view = ms.getProposal(proposal)
    assert view.cancelled is True
    assert view.executed is False


def test_cancel__by_governance__cancels_another_proposal(ms: Any, signers: list[Any], proposal: int) -> None:
    canceller = _propose(ms, signers[1], ms.cancel, proposal)
    ms.confirm(canceller, sender=signers[2])

    receipt = ms.execute(canceller, sender=signers[2])

    assert receipt.events == [
        ms.ProposalExecuted(proposalId=canceller, executor=signers[2]),
        ms.ProposalCancelled(proposalId=proposal, by=ms),
    ]
    assert ms.getProposal(proposal).cancelled is True
    with ape.reverts(ms.ProposalAlreadyCancelled, proposalId=proposal):
        ms.confirm(proposal, sender=signers[1])


def test_cancel__proposal_cancelling_itself__reverts_already_executed(ms: Any, signers: list[Any]) -> None:
    proposal_id = _propose(ms, signers[0], ms.cancel, 1)
    ms.confirm(proposal_id, sender=signers[1])

    with ape.reverts(ms.ProposalAlreadyExecuted, proposalId=1):
        ms.execute(proposal_id, sender=signers[0])


@pytest.mark.parametrize("who", ["other_signer", "stranger"])
def test_cancel__not_proposer__reverts(
    ms: Any, signers: list[Any], stranger: Any, proposal: int, who: str
) -> None:
    caller = signers[1] if who == "other_signer" else stranger

    with ape.reverts(ms.NotProposer, proposalId=proposal, caller=caller):
        ms.cancel(proposal, sender=caller)


def test_cancel__executed_proposal__reverts(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])
    ms.execute(proposal, sender=signers[1])

    with ape.reverts(ms.ProposalAlreadyExecuted, proposalId=proposal):
        ms.cancel(proposal, sender=signers[0])


def test_cancel__twice__reverts_already_cancelled(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.cancel(proposal, sender=signers[0])

    with ape.reverts(ms.ProposalAlreadyCancelled, proposalId=proposal):
        ms.cancel(proposal, sender=signers[0])


@pytest.mark.parametrize("proposal_id", [0, 1])
def test_cancel__unknown_proposal__reverts(ms: Any, signers: list[Any], proposal_id: int) -> None:
    with ape.reverts(ms.UnknownProposal, proposalId=proposal_id):
        ms.cancel(proposal_id, sender=signers[0])


# ====================================================================== end to end


def test_end_to_end__two_of_three(ms: Any, signers: list[Any], stranger: Any) -> None:
    proposal_id = _propose(ms, signers[2], ms.addSigner, stranger)
    with ape.reverts(ms.ThresholdNotMet, proposalId=proposal_id, have=1, need=2):
        ms.execute(proposal_id, sender=signers[2])
    ms.confirm(proposal_id, sender=signers[0])

    receipt = ms.execute(proposal_id, sender=signers[1])

    assert receipt.events == [
        ms.ProposalExecuted(proposalId=proposal_id, executor=signers[1]),
        ms.SignerAdded(signer=stranger),
    ]
    assert ms.getSigners() == [signers[0].address, signers[1].address, signers[2].address, stranger.address]
    assert ms.isSigner(stranger) is True
    assert ms.threshold() == 2


def test_end_to_end__three_of_five(ms5: Any, accounts: Any) -> None:
    five = list(accounts[0:5])
    proposal_id = _propose(ms5, five[3], ms5.setProposalLifetime, DAY)
    ms5.confirm(proposal_id, sender=five[0])
    with ape.reverts(ms5.ThresholdNotMet, proposalId=proposal_id, have=2, need=3):
        ms5.execute(proposal_id, sender=five[3])
    ms5.confirm(proposal_id, sender=five[4])
    assert ms5.getProposal(proposal_id).confirmations == 3

    receipt = ms5.execute(proposal_id, sender=five[1])

    assert receipt.events == [
        ms5.ProposalExecuted(proposalId=proposal_id, executor=five[1]),
        ms5.ProposalLifetimeChanged(previousLifetime=DEFAULT_LIFETIME, newLifetime=DAY),
    ]
    assert ms5.proposalLifetime() == DAY
    assert ms5.threshold() == 3
    assert ms5.getSigners() == [a.address for a in five]


# ================================================================ signer removal, stale confirmations


def test_remove_signer__stale_confirmation__no_longer_counts(
    ms: Any, signers: list[Any], proposal: int
) -> None:
    ms.confirm(proposal, sender=signers[1])
    assert ms.getProposal(proposal).confirmations == 2

    _as_governance(ms, [signers[0], signers[2]], ms.removeSigner, signers[1])

    assert ms.hasConfirmed(proposal, signers[1]) is False
    assert ms.getProposal(proposal).confirmations == 1
    with ape.reverts(ms.ThresholdNotMet, proposalId=proposal, have=1, need=2):
        ms.execute(proposal, sender=signers[0])


def test_remove_signer__removed_proposer__confirmation_no_longer_counts(
    ms: Any, signers: list[Any], proposal: int
) -> None:
    ms.confirm(proposal, sender=signers[1])

    _as_governance(ms, [signers[1], signers[2]], ms.removeSigner, signers[0])

    assert ms.getProposal(proposal).confirmations == 1
    with ape.reverts(ms.ThresholdNotMet, proposalId=proposal, have=1, need=2):
        ms.execute(proposal, sender=signers[1])


def test_remove_signer__re_added__old_confirmation_not_revived(
    ms: Any, signers: list[Any], proposal: int
) -> None:
    ms.confirm(proposal, sender=signers[1])
    _as_governance(ms, [signers[0], signers[2]], ms.removeSigner, signers[1])

    _as_governance(ms, [signers[0], signers[2]], ms.addSigner, signers[1])

    assert ms.isSigner(signers[1]) is True
    assert ms.hasConfirmed(proposal, signers[1]) is False
    assert ms.getProposal(proposal).confirmations == 1
    with ape.reverts(ms.ThresholdNotMet, proposalId=proposal, have=1, need=2):
        ms.execute(proposal, sender=signers[0])


def test_remove_signer__re_added__may_confirm_again(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])
    _as_governance(ms, [signers[0], signers[2]], ms.removeSigner, signers[1])
    _as_governance(ms, [signers[0], signers[2]], ms.addSigner, signers[1])

    receipt = ms.confirm(proposal, sender=signers[1])

    assert receipt.events == [ms.ProposalConfirmed(proposalId=proposal, signer=signers[1])]
    ms.execute(proposal, sender=signers[1])
    assert ms.threshold() == 3


def test_remove_signer__removed_signer__can_no_longer_act(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])
    _as_governance(ms, [signers[0], signers[2]], ms.removeSigner, signers[1])
    removed = signers[1]

    with ape.reverts(ms.NotSigner, account=removed):
        ms.propose(ms, 0, b"", sender=removed)
    with ape.reverts(ms.NotSigner, account=removed):
        ms.confirm(proposal, sender=removed)
    with ape.reverts(ms.NotSigner, account=removed):
        ms.revokeConfirmation(proposal, sender=removed)
    with ape.reverts(ms.NotSigner, account=removed):
        ms.execute(proposal, sender=removed)


# ====================================================================== signer set administration


@pytest.mark.parametrize(
    "function", ["addSigner", "removeSigner", "setThreshold", "setProposalLifetime", "setExecutionDelay"]
)
@pytest.mark.parametrize("caller_kind", ["signer", "stranger"])
def test_admin__called_directly__reverts_only_governance(
    ms: Any, signers: list[Any], stranger: Any, function: str, caller_kind: str
) -> None:
    argument = {
        "addSigner": _address(1),
        "removeSigner": signers[2],
        "setThreshold": 1,
        "setProposalLifetime": DAY,
        "setExecutionDelay": HOUR,
    }[function]
    caller = signers[0] if caller_kind == "signer" else stranger

    with ape.reverts(ms.OnlyGovernance, caller=caller):
        getattr(ms, function)(argument, sender=caller)


def test_add_signer__emits_and_appends(ms: Any, signers: list[Any], stranger: Any) -> None:
    receipt = _as_governance(ms, signers[:2], ms.addSigner, stranger)

    assert receipt.events == [
        ms.ProposalExecuted(proposalId=1, executor=signers[0]),
        ms.SignerAdded(signer=stranger),
    ]
    assert ms.getSigners() == [s.address for s in signers] + [stranger.address]
    assert ms.isSigner(stranger) is True


def test_add_signer__existing__reverts_already_signer(ms: Any, signers: list[Any]) -> None:
    with ape.reverts(ms.AlreadySigner, account=signers[2]):
        _as_governance(ms, signers[:2], ms.addSigner, signers[2])


def test_add_signer__zero_address__reverts(ms: Any, signers: list[Any]) -> None:
    with ape.reverts(ms.ZeroAddress):
        _as_governance(ms, signers[:2], ms.addSigner, ZERO_ADDRESS)


def test_add_signer__the_contract_itself__reverts_invalid_signer(ms: Any, signers: list[Any]) -> None:
    with ape.reverts(ms.InvalidSigner, account=ms.address):
        _as_governance(ms, signers[:2], ms.addSigner, ms)

    assert ms.isSigner(ms) is False


def test_add_signer__twenty_first__reverts_too_many_signers(ms: Any, signers: list[Any]) -> None:
    calls = [ms.addSigner.encode_input(_address(i)) for i in range(MAX_SIGNERS - 3)]
    _as_governance(ms, signers[:2], ms.multicall, calls)
    assert len(ms.getSigners()) == MAX_SIGNERS

    with ape.reverts(ms.TooManySigners, count=MAX_SIGNERS + 1, max=MAX_SIGNERS):
        _as_governance(ms, signers[:2], ms.addSigner, _address(99))

    assert len(ms.getSigners()) == MAX_SIGNERS


def test_remove_signer__emits_and_removes(ms: Any, signers: list[Any]) -> None:
    receipt = _as_governance(ms, signers[:2], ms.removeSigner, signers[0])

    assert receipt.events == [
        ms.ProposalExecuted(proposalId=1, executor=signers[0]),
        ms.SignerRemoved(signer=signers[0]),
    ]
    remaining = ms.getSigners()
    assert sorted(remaining) == sorted([signers[1].address, signers[2].address])
    assert ms.isSigner(signers[0]) is False
    assert ms.threshold() == 2


def test_remove_signer__non_signer__reverts_not_signer(ms: Any, signers: list[Any], stranger: Any) -> None:
    with ape.reverts(ms.NotSigner, account=stranger):
        _as_governance(ms, signers[:2], ms.removeSigner, stranger)


def test_remove_signer__below_threshold__reverts_invalid_threshold(ms: Any, signers: list[Any]) -> None:
    _as_governance(ms, signers[:2], ms.removeSigner, signers[2])  # 2 of 2 left

    with ape.reverts(ms.InvalidThreshold, threshold=2, signerCount=1):
        _as_governance(ms, signers[:2], ms.removeSigner, signers[1])

    assert ms.getSigners() == [signers[0].address, signers[1].address]


def test_remove_signer__with_threshold_equal_to_count__reverts(ms: Any, signers: list[Any]) -> None:
    _as_governance(ms, signers[:2], ms.setThreshold, 3)

    with ape.reverts(ms.InvalidThreshold, threshold=3, signerCount=2):
        _as_governance(ms, signers, ms.removeSigner, signers[2])


@pytest.mark.parametrize("new_threshold", [1, 3])
def test_set_threshold__in_range__emits(ms: Any, signers: list[Any], new_threshold: int) -> None:
    receipt = _as_governance(ms, signers[:2], ms.setThreshold, new_threshold)

    assert receipt.events == [
        ms.ProposalExecuted(proposalId=1, executor=signers[0]),
        ms.ThresholdChanged(previousThreshold=2, newThreshold=new_threshold),
    ]
    assert ms.threshold() == new_threshold


@pytest.mark.parametrize("new_threshold", [0, 4, 256])
def test_set_threshold__out_of_range__reverts(ms: Any, signers: list[Any], new_threshold: int) -> None:
    with ape.reverts(ms.InvalidThreshold, threshold=new_threshold, signerCount=3):
        _as_governance(ms, signers[:2], ms.setThreshold, new_threshold)

    assert ms.threshold() == 2


def test_set_threshold__raised__applies_to_open_proposals(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[1])
    _as_governance(ms, signers[:2], ms.setThreshold, 3)

    with ape.reverts(ms.ThresholdNotMet, proposalId=proposal, have=2, need=3):
        ms.execute(proposal, sender=signers[0])


@pytest.mark.parametrize("lifetime", [MIN_LIFETIME, MAX_LIFETIME])
def test_set_proposal_lifetime__at_bounds__emits(ms: Any, signers: list[Any], lifetime: int) -> None:
    receipt = _as_governance(ms, signers[:2], ms.setProposalLifetime, lifetime)

    assert receipt.events == [
        ms.ProposalExecuted(proposalId=1, executor=signers[0]),
        ms.ProposalLifetimeChanged(previousLifetime=DEFAULT_LIFETIME, newLifetime=lifetime),
    ]
    assert ms.proposalLifetime() == lifetime


@pytest.mark.parametrize("lifetime", [0, MIN_LIFETIME - 1, MAX_LIFETIME + 1, 2**32])
def test_set_proposal_lifetime__out_of_bounds__reverts(ms: Any, signers: list[Any], lifetime: int) -> None:
    with ape.reverts(ms.InvalidProposalLifetime, lifetime=lifetime, min=MIN_LIFETIME, max=MAX_LIFETIME):
        _as_governance(ms, signers[:2], ms.setProposalLifetime, lifetime)

    assert ms.proposalLifetime() == DEFAULT_LIFETIME


# ====================================================================== views


def test_views__after_initialisation(ms: Any, signers: list[Any], stranger: Any) -> None:
    assert ms.getSigners() == [s.address for s in signers]
    assert all(ms.isSigner(s) for s in signers)
    assert ms.isSigner(stranger) is False
    assert ms.isSigner(ZERO_ADDRESS) is False
    assert ms.threshold() == 2
    assert ms.proposalCount() == 0
    assert ms.proposalLifetime() == DEFAULT_LIFETIME
    assert ms.MAX_SIGNERS() == MAX_SIGNERS
    assert ms.DEFAULT_PROPOSAL_LIFETIME() == DEFAULT_LIFETIME
    assert ms.MIN_PROPOSAL_LIFETIME() == MIN_LIFETIME
    assert ms.MAX_PROPOSAL_LIFETIME() == MAX_LIFETIME
    assert ms.MAX_EXECUTION_DELAY() == MAX_EXECUTION_DELAY
    assert ms.executionDelay() == 0


@pytest.mark.parametrize("proposal_id", [0, 1])
def test_get_proposal__unknown__reverts(ms: Any, proposal_id: int) -> None:
    with ape.reverts(ms.UnknownProposal, proposalId=proposal_id):
        ms.getProposal(proposal_id)


def test_get_proposal__after_execution__reports_state(ms: Any, signers: list[Any], proposal: int) -> None:
    ms.confirm(proposal, sender=signers[2])
    ms.execute(proposal, sender=signers[2])

    view = ms.getProposal(proposal)

    assert view.executed is True
    assert view.cancelled is False
    assert view.confirmations == 2
    assert view.proposer == signers[0].address
    assert view.data == ms.setThreshold.encode_input(3)


def test_has_confirmed__unknown_proposal_or_non_signer__false(
    ms: Any, signers: list[Any], stranger: Any, proposal: int
) -> None:
    assert ms.hasConfirmed(99, signers[0]) is False
    assert ms.hasConfirmed(proposal, stranger) is False
    assert ms.hasConfirmed(proposal, ZERO_ADDRESS) is False


# ====================================================================== initialize


@pytest.fixture
def pair(project: Any, deployer: Any) -> tuple[Any, Any]:
    """(implementation, admin): a LeverageGuard and the LeverageGuardAdmin its fallback delegates to."""
    return deploy_pair(project, deployer)


@pytest.fixture
def implementation(project: Any, pair: tuple[Any, Any]) -> Any:
    """The implementation seen through the whole interface (its fallback serves `initialize`)."""
    return guard_at(project, pair[0].address)


@pytest.fixture
def uninitialised(project: Any, deployer: Any, pair: tuple[Any, Any]) -> Any:
    """A proxy whose constructor made a harmless call instead of `initialize` (OZ 5.7 rejects empty data)."""
    proxy = deployer.deploy(project.LeverageGuardProxy, pair[0], pair[0].version.encode_input())
    return guard_at(project, proxy.address)


def test_initialize__emits_setup_events(
    uninitialised: Any, token: Any, signers: list[Any], deployer: Any
) -> None:
    receipt = uninitialised.initialize(token, signers, 2, sender=deployer)

    assert receipt.events == [
        uninitialised.SignerAdded(signer=signers[0]),
        uninitialised.SignerAdded(signer=signers[1]),
        uninitialised.SignerAdded(signer=signers[2]),
        uninitialised.ThresholdChanged(previousThreshold=0, newThreshold=2),
        uninitialised.ProposalLifetimeChanged(previousLifetime=0, newLifetime=DEFAULT_LIFETIME),
        uninitialised.RoleGranted(role=b"\x00" * 32, account=uninitialised, sender=deployer),
        uninitialised.ChallengePeriodChanged(previousPeriod=0, newPeriod=DEFAULT_CHALLENGE_PERIOD),
        uninitialised.ClaimGracePeriodChanged(previousPeriod=0, newPeriod=CLAIM_GRACE_PERIOD),
        uninitialised.Initialized(version=2),
    ]
    assert uninitialised.executionDelay() == 0
    assert uninitialised.asset() == token.address


def test_initialize__twice__reverts(ms: Any, token: Any, stranger: Any) -> None:
    with ape.reverts(ms.InvalidInitialization):
        ms.initialize(token, [stranger], 1, sender=stranger)

    assert ms.isSigner(stranger) is False


def test_initialize__implementation__reverts(implementation: Any, token: Any, stranger: Any) -> None:
    with ape.reverts(implementation.InvalidInitialization):
        implementation.initialize(token, [stranger], 1, sender=stranger)

    assert implementation.isSigner(stranger) is False


def test_admin__called_directly__cannot_initialise_and_has_no_signers(
    project: Any, pair: tuple[Any, Any], token: Any, signers: list[Any], stranger: Any
) -> None:
    """LeverageGuardAdmin outside the proxy: initializers disabled, its own storage empty, so nothing a
    signer or governance could do through the proxy can be done on it."""
    admin = guard_at(project, pair[1].address)
    assert pair[0].ADMIN() == pair[1].address

    with ape.reverts(admin.InvalidInitialization):
        admin.initialize(token, [stranger], 1, sender=stranger)

    assert admin.getSigners() == []
    assert admin.isSigner(signers[0]) is False
    assert admin.threshold() == 0
    assert admin.asset() == ZERO_ADDRESS
    with ape.reverts(admin.NotSigner, account=signers[0]):
        admin.propose(admin, 0, b"", sender=signers[0])
    with ape.reverts(admin.OnlyGovernance, caller=stranger):
        admin.setThreshold(1, sender=stranger)


def test_initialize__zero_asset__reverts(uninitialised: Any, signers: list[Any], deployer: Any) -> None:
    with ape.reverts(uninitialised.ZeroAddress):
        uninitialised.initialize(ZERO_ADDRESS, signers, 2, sender=deployer)


def test_initialize__zero_signer__reverts(
    uninitialised: Any, token: Any, signers: list[Any], deployer: Any
) -> None:
    with ape.reverts(uninitialised.ZeroAddress):
        uninitialised.initialize(token, [signers[0], ZERO_ADDRESS], 1, sender=deployer)


def test_initialize__duplicate_signer__reverts(
    uninitialised: Any, token: Any, signers: list[Any], deployer: Any
) -> None:
    with ape.reverts(uninitialised.AlreadySigner, account=signers[1]):
        uninitialised.initialize(token, [signers[0], signers[1], signers[1]], 1, sender=deployer)


@pytest.mark.parametrize(("signer_count", "threshold"), [(3, 0), (3, 4), (0, 1), (0, 0)])
def test_initialize__bad_threshold__reverts(
    uninitialised: Any, token: Any, signers: list[Any], deployer: Any, signer_count: int, threshold: int
) -> None:
    with ape.reverts(uninitialised.InvalidThreshold, threshold=threshold, signerCount=signer_count):
        uninitialised.initialize(token, signers[:signer_count], threshold, sender=deployer)


def test_initialize__twenty_one_signers__reverts(uninitialised: Any, token: Any, deployer: Any) -> None:
    with ape.reverts(uninitialised.TooManySigners, count=MAX_SIGNERS + 1, max=MAX_SIGNERS):
        uninitialised.initialize(token, [_address(i) for i in range(MAX_SIGNERS + 1)], 1, sender=deployer)


def test_initialize__twenty_signers__succeeds(uninitialised: Any, token: Any, deployer: Any) -> None:
    twenty = [_address(i) for i in range(MAX_SIGNERS)]

    uninitialised.initialize(token, twenty, MAX_SIGNERS, sender=deployer)

    assert [s.lower() for s in uninitialised.getSigners()] == twenty
    assert uninitialised.threshold() == MAX_SIGNERS


def test_initialize__through_proxy_constructor__bad_data_reverts_deployment(
    project: Any, deployer: Any, implementation: Any, token: Any, signers: list[Any]
) -> None:
    init_data = implementation.initialize.encode_input(token, [signers[0], signers[0]], 1)

    with ape.reverts(implementation.AlreadySigner, account=signers[0]):
        deployer.deploy(project.LeverageGuardProxy, implementation.address, init_data)


# ====================================================================== execution delay

DELAY = 2 * HOUR
MULTICALL_SELECTOR = bytes.fromhex("ac9650d8")


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


@pytest.fixture
def delayed(ms: Any, signers: list[Any], guardian: Any) -> Any:
    """`ms` with `guardian` holding GUARDIAN_ROLE and an execution delay of DELAY (proposals 1 and 2)."""
    _as_governance(ms, signers[:2], ms.grantRole, ms.GUARDIAN_ROLE(), guardian)
    _as_governance(ms, signers[:2], ms.setExecutionDelay, DELAY)
    return ms


def _scheduled(ms: Any, signers: list[Any], call: Any, *args: Any) -> tuple[int, int]:
    """Proposes (signer 0) and confirms (signer 1): returns (proposal id, readyAt)."""
    proposal_id = _propose(ms, signers[0], call, *args)
    ms.confirm(proposal_id, sender=signers[1])
    return proposal_id, int(ms.getProposal(proposal_id).readyAt)


def _raw_proposal(ms: Any, signers: list[Any], data: bytes) -> tuple[int, int]:
    proposal_id = int(ms.propose(ms, 0, data, sender=signers[0]).return_value)
    ms.confirm(proposal_id, sender=signers[1])
    return proposal_id, int(ms.getProposal(proposal_id).readyAt)


def test_set_execution_delay__by_governance__emits_and_sets(ms: Any, signers: list[Any]) -> None:
    receipt = _as_governance(ms, signers[:2], ms.setExecutionDelay, DELAY)

    assert receipt.events == [
        ms.ProposalExecuted(proposalId=1, executor=signers[0]),
        ms.ExecutionDelayChanged(previousDelay=0, newDelay=DELAY),
    ]
    assert ms.executionDelay() == DELAY


def test_set_execution_delay__longest_the_lifetime_allows__accepted(ms: Any, signers: list[Any]) -> None:
    _as_governance(ms, signers[:2], ms.setExecutionDelay, DEFAULT_LIFETIME - MIN_LIFETIME)

    assert ms.executionDelay() == DEFAULT_LIFETIME - MIN_LIFETIME


@pytest.mark.parametrize(
    ("lifetime", "delay"),
    [
        (DEFAULT_LIFETIME, DEFAULT_LIFETIME - MIN_LIFETIME + 1),
        (MAX_LIFETIME, MAX_LIFETIME - MIN_LIFETIME + 1),
        (MAX_LIFETIME, MAX_EXECUTION_DELAY),
        (MIN_LIFETIME, 1),
        (DEFAULT_LIFETIME, 2**32),
    ],
)
def test_set_execution_delay__above_lifetime_minus_min_lifetime__reverts(
    ms: Any, signers: list[Any], lifetime: int, delay: int
) -> None:
    """A proposal scheduled at once must stay executable MIN_PROPOSAL_LIFETIME: delay <= lifetime - 1 h
    (which also keeps it under MAX_EXECUTION_DELAY, since the lifetime is at most 30 days)."""
    if lifetime != DEFAULT_LIFETIME:
        _as_governance(ms, signers[:2], ms.setProposalLifetime, lifetime)
    maximum = min(MAX_EXECUTION_DELAY, lifetime - MIN_LIFETIME)

    with ape.reverts(ms.InvalidExecutionDelay, delay=delay, max=maximum):
        _as_governance(ms, signers[:2], ms.setExecutionDelay, delay)

    assert ms.executionDelay() == 0


def test_set_proposal_lifetime__below_delay_plus_min_lifetime__reverts(
    delayed: Any, signers: list[Any], chain: Any
) -> None:
    ms = delayed
    proposal_id, ready_at = _scheduled(ms, signers, ms.setProposalLifetime, DELAY + MIN_LIFETIME - 1)
    chain.pending_timestamp = ready_at
    with ape.reverts(
        ms.InvalidProposalLifetime,
        lifetime=DELAY + MIN_LIFETIME - 1,
        min=DELAY + MIN_LIFETIME,
        max=MAX_LIFETIME,
    ):
        ms.execute(proposal_id, sender=signers[0])

    ok_id, ok_ready = _scheduled(ms, signers, ms.setProposalLifetime, DELAY + MIN_LIFETIME)
    chain.pending_timestamp = ok_ready
    ms.execute(ok_id, sender=signers[0])
    assert ms.proposalLifetime() == DELAY + MIN_LIFETIME


def test_delay__threshold_reached__schedules_at_now_plus_delay(delayed: Any, signers: list[Any]) -> None:
    ms = delayed
    proposal_id = _propose(ms, signers[0], ms.setThreshold, 3)
    assert ms.getProposal(proposal_id).readyAt == 0

    receipt = ms.confirm(proposal_id, sender=signers[1])

    assert receipt.events == [
        ms.ProposalConfirmed(proposalId=proposal_id, signer=signers[1]),
        ms.ProposalScheduled(proposalId=proposal_id, readyAt=receipt.timestamp + DELAY),
    ]
    assert ms.getProposal(proposal_id).readyAt == receipt.timestamp + DELAY
    # A further confirmation does not move readyAt.
    later = ms.confirm(proposal_id, sender=signers[2])
    assert later.events == [ms.ProposalConfirmed(proposalId=proposal_id, signer=signers[2])]
    assert ms.getProposal(proposal_id).readyAt == receipt.timestamp + DELAY


def test_delay__execute_one_second_before_ready__reverts_not_ready_then_succeeds_at_ready(
    delayed: Any, signers: list[Any], chain: Any
) -> None:
    ms = delayed
    proposal_id, ready_at = _scheduled(ms, signers, ms.setThreshold, 3)
    chain.pending_timestamp = ready_at - 1

    with ape.reverts(ms.ProposalNotReady, proposalId=proposal_id, readyAt=ready_at):
        ms.execute(proposal_id, sender=signers[0])

    chain.pending_timestamp = ready_at
    receipt = ms.execute(proposal_id, sender=signers[0])
    assert receipt.timestamp == ready_at
    assert receipt.events == [
        ms.ProposalExecuted(proposalId=proposal_id, executor=signers[0]),
        ms.ThresholdChanged(previousThreshold=2, newThreshold=3),
    ]


def test_delay__threshold_no_longer_met_after_scheduling__reverts_threshold_not_met(
    delayed: Any, signers: list[Any], chain: Any
) -> None:
    ms = delayed
    proposal_id, ready_at = _scheduled(ms, signers, ms.setThreshold, 3)
    ms.revokeConfirmation(proposal_id, sender=signers[1])
    chain.pending_timestamp = ready_at

    with ape.reverts(ms.ThresholdNotMet, proposalId=proposal_id, have=1, need=2):
        ms.execute(proposal_id, sender=signers[0])
    # Confirming again does not reschedule: the original readyAt stands.
    receipt = ms.confirm(proposal_id, sender=signers[1])
    assert receipt.events == [ms.ProposalConfirmed(proposalId=proposal_id, signer=signers[1])]
    ms.execute(proposal_id, sender=signers[0])
    assert ms.threshold() == 3


def test_delay__lowering_the_delay__applies_only_to_later_schedules(
    delayed: Any, signers: list[Any], chain: Any
) -> None:
    ms = delayed
    early_id, early_ready = _scheduled(ms, signers, ms.setThreshold, 3)
    lower_id, lower_ready = _scheduled(ms, signers, ms.setExecutionDelay, 0)
    chain.pending_timestamp = lower_ready
    ms.execute(lower_id, sender=signers[0])

    late_id, late_ready = _scheduled(ms, signers, ms.setThreshold, 1)

    assert late_ready == int(chain.blocks.head.timestamp)  # no delay any more
    assert ms.getProposal(early_id).readyAt == early_ready  # scheduled under the old delay: unchanged
    ms.execute(late_id, sender=signers[0])
    assert ms.threshold() == 1


def test_propose__threshold_one__schedules_at_once(ms: Any, signers: list[Any]) -> None:
    _as_governance(ms, signers[:2], ms.setThreshold, 1)
    data = ms.setThreshold.encode_input(2)

    receipt = ms.propose(ms, 0, data, sender=signers[2])

    assert receipt.events == [
        ms.ProposalCreated(
            proposalId=2,
            proposer=signers[2],
            target=ms,
            value=0,
            data=data,
            expiresAt=receipt.timestamp + DEFAULT_LIFETIME,
        ),
        ms.ProposalConfirmed(proposalId=2, signer=signers[2]),
        ms.ProposalScheduled(proposalId=2, readyAt=receipt.timestamp),
    ]
    ms.execute(2, sender=signers[2])
    assert ms.threshold() == 2


# ---------------------------------------------------------------------- schedule


@pytest.fixture
def unscheduled(ms: Any, signers: list[Any]) -> int:
    """Proposal 1 (signer 0's setThreshold(3), one confirmation), then the threshold lowered to 1 by
    proposal 2: proposal 1 meets the threshold but was never scheduled."""
    proposal_id = _propose(ms, signers[0], ms.setThreshold, 3)
    _as_governance(ms, signers[:2], ms.setThreshold, 1)
    return proposal_id


def test_execute__threshold_met_but_never_scheduled__reverts_not_ready(
    ms: Any, signers: list[Any], unscheduled: int
) -> None:
    with ape.reverts(ms.ProposalNotReady, proposalId=unscheduled, readyAt=0):
        ms.execute(unscheduled, sender=signers[0])


def test_schedule__threshold_met__emits_and_makes_executable(
    ms: Any, signers: list[Any], unscheduled: int
) -> None:
    receipt = ms.schedule(unscheduled, sender=signers[2])

    assert receipt.events == [ms.ProposalScheduled(proposalId=unscheduled, readyAt=receipt.timestamp)]
    assert ms.getProposal(unscheduled).readyAt == receipt.timestamp
    ms.execute(unscheduled, sender=signers[2])
    assert ms.threshold() == 3


def test_schedule__with_delay__ready_after_the_delay(
    ms: Any, signers: list[Any], unscheduled: int, chain: Any
) -> None:
    _as_governance(ms, signers[:1], ms.setExecutionDelay, DELAY)

    receipt = ms.schedule(unscheduled, sender=signers[1])

    assert receipt.events == [ms.ProposalScheduled(proposalId=unscheduled, readyAt=receipt.timestamp + DELAY)]
    with ape.reverts(ms.ProposalNotReady, proposalId=unscheduled, readyAt=receipt.timestamp + DELAY):
        ms.execute(unscheduled, sender=signers[1])


def test_schedule__already_scheduled__reverts(ms: Any, signers: list[Any], proposal: int) -> None:
    ready_at = ms.confirm(proposal, sender=signers[1]).timestamp

    with ape.reverts(ms.ProposalAlreadyScheduled, proposalId=proposal, readyAt=ready_at):
        ms.schedule(proposal, sender=signers[2])


def test_schedule__threshold_not_met__reverts(ms: Any, signers: list[Any], proposal: int) -> None:
    with ape.reverts(ms.ThresholdNotMet, proposalId=proposal, have=1, need=2):
        ms.schedule(proposal, sender=signers[0])

    assert ms.getProposal(proposal).readyAt == 0


def test_schedule__by_stranger__reverts_not_signer(ms: Any, stranger: Any, unscheduled: int) -> None:
    with ape.reverts(ms.NotSigner, account=stranger):
        ms.schedule(unscheduled, sender=stranger)


@pytest.mark.parametrize("state", ["unknown", "executed", "cancelled", "expired"])
def test_schedule__not_open__reverts(
    ms: Any, signers: list[Any], unscheduled: int, chain: Any, state: str
) -> None:
    proposal_id = unscheduled
    if state == "unknown":
        proposal_id, expectation = 99, ape.reverts(ms.UnknownProposal, proposalId=99)
    elif state == "executed":
        ms.schedule(proposal_id, sender=signers[0])
        ms.execute(proposal_id, sender=signers[0])
        expectation = ape.reverts(ms.ProposalAlreadyExecuted, proposalId=proposal_id)
    elif state == "cancelled":
        ms.cancel(proposal_id, sender=signers[0])
        expectation = ape.reverts(ms.ProposalAlreadyCancelled, proposalId=proposal_id)
    else:
        expires_at = ms.getProposal(proposal_id).expiresAt
        chain.pending_timestamp = expires_at
        expectation = ape.reverts(ms.ProposalExpired, proposalId=proposal_id, expiresAt=expires_at)

    with expectation:
        ms.schedule(proposal_id, sender=signers[1])


# ---------------------------------------------------------------------- guardian cancel


def test_guardian_cancel__during_delay__emits_and_cancels(
    delayed: Any, signers: list[Any], guardian: Any, chain: Any
) -> None:
    ms = delayed
    proposal_id, ready_at = _scheduled(ms, signers, ms.setThreshold, 3)
    chain.pending_timestamp = ready_at - 1

    receipt = ms.cancel(proposal_id, sender=guardian)

    assert receipt.events == [ms.ProposalCancelled(proposalId=proposal_id, by=guardian)]
    assert ms.getProposal(proposal_id).cancelled is True
    chain.pending_timestamp = ready_at
    with ape.reverts(ms.ProposalAlreadyCancelled, proposalId=proposal_id):
        ms.execute(proposal_id, sender=signers[0])


def test_guardian_cancel__at_ready__reverts_not_in_delay(
    delayed: Any, signers: list[Any], guardian: Any, chain: Any
) -> None:
    ms = delayed
    proposal_id, ready_at = _scheduled(ms, signers, ms.setThreshold, 3)
    chain.pending_timestamp = ready_at

    with ape.reverts(ms.NotInDelay, proposalId=proposal_id, readyAt=ready_at):
        ms.cancel(proposal_id, sender=guardian)

    ms.execute(proposal_id, sender=signers[0])
    assert ms.threshold() == 3


def test_guardian_cancel__not_scheduled__reverts_not_in_delay(
    delayed: Any, signers: list[Any], guardian: Any
) -> None:
    proposal_id = _propose(delayed, signers[0], delayed.setThreshold, 3)

    with ape.reverts(delayed.NotInDelay, proposalId=proposal_id, readyAt=0):
        delayed.cancel(proposal_id, sender=guardian)


def test_guardian_cancel__no_delay__never_in_delay(ms: Any, signers: list[Any], guardian: Any) -> None:
    _as_governance(ms, signers[:2], ms.grantRole, ms.GUARDIAN_ROLE(), guardian)
    proposal_id = _propose(ms, signers[0], ms.setThreshold, 3)
    ready_at = ms.confirm(proposal_id, sender=signers[1]).timestamp

    with ape.reverts(ms.NotInDelay, proposalId=proposal_id, readyAt=ready_at):
        ms.cancel(proposal_id, sender=guardian)


def test_guardian_cancel__revoke_guardian_role__reverts_not_cancellable(
    delayed: Any, signers: list[Any], guardian: Any, chain: Any
) -> None:
    ms = delayed
    proposal_id, ready_at = _scheduled(ms, signers, ms.revokeRole, ms.GUARDIAN_ROLE(), guardian)

    with ape.reverts(ms.GuardianRemovalNotCancellable, proposalId=proposal_id):
        ms.cancel(proposal_id, sender=guardian)

    chain.pending_timestamp = ready_at
    ms.execute(proposal_id, sender=signers[0])
    assert ms.hasRole(ms.GUARDIAN_ROLE(), guardian) is False


def test_guardian_cancel__multicall_of_guardian_revocations__reverts_not_cancellable(
    delayed: Any, signers: list[Any], guardian: Any, stranger: Any
) -> None:
    ms = delayed
    role = ms.GUARDIAN_ROLE()
    calls = [ms.revokeRole.encode_input(role, guardian), ms.revokeRole.encode_input(role, stranger)]
    proposal_id, _ = _scheduled(ms, signers, ms.multicall, calls)

    with ape.reverts(ms.GuardianRemovalNotCancellable, proposalId=proposal_id):
        ms.cancel(proposal_id, sender=guardian)


@pytest.mark.parametrize("kind", ["mixed_multicall", "other_role", "empty_multicall"])
def test_guardian_cancel__anything_else__cancellable(
    delayed: Any, signers: list[Any], guardian: Any, kind: str
) -> None:
    """Only a proposal that does nothing but revoke GUARDIAN_ROLE is shielded from the guardian."""
    ms = delayed
    role = ms.GUARDIAN_ROLE()
    if kind == "mixed_multicall":
        data = ms.multicall.encode_input(
            [ms.revokeRole.encode_input(role, guardian), ms.setThreshold.encode_input(3)]
        )
    elif kind == "other_role":
        data = ms.revokeRole.encode_input(ms.VALIDATOR_ROLE(), guardian)
    else:
        data = ms.multicall.encode_input([])
    proposal_id, _ = _raw_proposal(ms, signers, data)

    receipt = ms.cancel(proposal_id, sender=guardian)

    assert receipt.events == [ms.ProposalCancelled(proposalId=proposal_id, by=guardian)]


def _malformed_multicalls(revocation: bytes) -> dict[str, bytes]:
    """multicall calldata a proposal may carry (propose does not decode it) that is not a well-formed list
    of guardian revocations; the cancel check must treat each as 'not only guardian removals'."""
    item = _word(len(revocation)) + revocation + bytes(32 - len(revocation) % 32)
    good = MULTICALL_SELECTOR + _word(32) + _word(1) + _word(32) + item
    return {
        "too_short": MULTICALL_SELECTOR + _word(32),
        "array_offset_out_of_range": MULTICALL_SELECTOR + _word(2**255) + _word(1) + _word(0),
        "count_beyond_data": MULTICALL_SELECTOR + _word(32) + _word(5) + _word(32),
        "element_offset_out_of_range": MULTICALL_SELECTOR + _word(32) + _word(1) + _word(2**200) + item,
        "element_length_beyond_data": MULTICALL_SELECTOR + _word(32) + _word(1) + _word(32) + _word(10**6),
        "revocation_with_extra_byte": good[: 4 + 96] + _word(len(revocation) + 1) + revocation + b"\x00" * 28,
        "other_selector": bytes.fromhex("12345678") + good[4:],
    }


@pytest.mark.parametrize(
    "variant",
    [
        "too_short",
        "array_offset_out_of_range",
        "count_beyond_data",
        "element_offset_out_of_range",
        "element_length_beyond_data",
        "revocation_with_extra_byte",
        "other_selector",
    ],
)
def test_guardian_cancel__malformed_multicall__cancellable(
    delayed: Any, signers: list[Any], guardian: Any, variant: str
) -> None:
    ms = delayed
    revocation = bytes(ms.revokeRole.encode_input(ms.GUARDIAN_ROLE(), guardian))
    proposal_id, _ = _raw_proposal(ms, signers, _malformed_multicalls(revocation)[variant])

    receipt = ms.cancel(proposal_id, sender=guardian)

    assert receipt.events == [ms.ProposalCancelled(proposalId=proposal_id, by=guardian)]


def test_guardian_cancel__well_formed_raw_multicall__not_cancellable(
    delayed: Any, signers: list[Any], guardian: Any
) -> None:
    """The hand-built encoding the malformed variants start from is recognised when intact."""
    ms = delayed
    revocation = bytes(ms.revokeRole.encode_input(ms.GUARDIAN_ROLE(), guardian))
    item = _word(len(revocation)) + revocation + bytes(32 - len(revocation) % 32)
    proposal_id, _ = _raw_proposal(ms, signers, MULTICALL_SELECTOR + _word(32) + _word(1) + _word(32) + item)

    with ape.reverts(ms.GuardianRemovalNotCancellable, proposalId=proposal_id):
        ms.cancel(proposal_id, sender=guardian)


@pytest.mark.parametrize("who", ["stranger", "revoked_guardian"])
def test_cancel__during_delay_without_guardian_role__reverts_not_proposer(
    delayed: Any, signers: list[Any], guardian: Any, stranger: Any, chain: Any, who: str
) -> None:
    ms = delayed
    if who == "revoked_guardian":
        revoke_id, ready_at = _scheduled(ms, signers, ms.revokeRole, ms.GUARDIAN_ROLE(), guardian)
        chain.pending_timestamp = ready_at
        ms.execute(revoke_id, sender=signers[0])
    caller = guardian if who == "revoked_guardian" else stranger
    proposal_id, _ = _scheduled(ms, signers, ms.setThreshold, 3)

    with ape.reverts(ms.NotProposer, proposalId=proposal_id, caller=caller):
        ms.cancel(proposal_id, sender=caller)


def test_guardian_cancel__executed_proposal__reverts_already_executed(
    delayed: Any, signers: list[Any], guardian: Any, chain: Any
) -> None:
    ms = delayed
    proposal_id, ready_at = _scheduled(ms, signers, ms.setThreshold, 3)
    chain.pending_timestamp = ready_at
    ms.execute(proposal_id, sender=signers[0])

    with ape.reverts(ms.ProposalAlreadyExecuted, proposalId=proposal_id):
        ms.cancel(proposal_id, sender=guardian)


def test_cancel__removed_signer__own_proposal__reverts_not_proposer(ms: Any, signers: list[Any]) -> None:
    proposal_id = _propose(ms, signers[2], ms.setThreshold, 1)
    _as_governance(ms, signers[:2], ms.removeSigner, signers[2])

    with ape.reverts(ms.NotProposer, proposalId=proposal_id, caller=signers[2]):
        ms.cancel(proposal_id, sender=signers[2])

    assert ms.getProposal(proposal_id).cancelled is False
