"""``LiveSource.proposals`` on anvil: the queue as the chain has it, decoded and simulated by the signers'
own code (``operator_toolkit.governance``, ``operator_toolkit.decode``, ``operator_toolkit.simulate``)."""

from __future__ import annotations

from typing import Any

from support.pool import DAILY_WITHDRAWAL_LIMIT, USDT

from keeper.console.sources import LiveSource


def test_proposals__pending_multicall__each_item_decoded_with_its_effect(
    console_source: LiveSource, gov: Any
) -> None:
    guard = gov.guard
    items = [
        guard.setDailyWithdrawalLimit.encode_input(25_000 * USDT),
        guard.setChallengePeriod.encode_input(7_200),
    ]
    proposal_id = gov.propose(guard.multicall, items)

    snapshot = console_source.proposals()

    proposal = snapshot.proposals[-1]
    assert (snapshot.count, proposal.proposal_id, proposal.state) == (proposal_id, proposal_id, "pending")
    assert proposal.actions == [
        "setDailyWithdrawalLimit(limit=25,000 USDT)",
        "setChallengePeriod(period=2h (7200 s))",
    ]
    assert (proposal.confirmations, proposal.threshold) == (1, 2)
    assert proposal.confirmed_by == [str(gov.signers[0].address)]
    assert ("dailyWithdrawalLimit", "20,000 USDT", "25,000 USDT") in proposal.effect
    assert ("challengePeriod", "1h (3600 s)", "2h (7200 s)") in proposal.effect
    assert proposal.refusal is None


def test_proposals__withdrawal_over_the_daily_limit__refusal_decoded(
    console_source: LiveSource, gov: Any, stranger: Any
) -> None:
    guard = gov.guard
    over = DAILY_WITHDRAWAL_LIMIT + 1 * USDT
    proposal_id = gov.propose(guard.withdraw, stranger, over)

    proposal = console_source.proposals().proposals[-1]

    assert proposal.proposal_id == proposal_id
    assert proposal.refusal == "DailyLimitExceeded(requested=20,001 USDT, remaining=20,000 USDT)"
    assert proposal.effect == []


def test_proposals__executed_ones__no_simulation_and_newest_scan_only(console_source: LiveSource) -> None:
    snapshot = console_source.proposals()

    assert snapshot.proposals, "the configured pool was set up by executed proposals"
    assert {proposal.state for proposal in snapshot.proposals} == {"executed"}
    assert all(proposal.effect == [] and proposal.refusal is None for proposal in snapshot.proposals)
    assert snapshot.proposals[-1].proposal_id == snapshot.count
