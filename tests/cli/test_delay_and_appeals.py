"""Contract 1.1 through the operator scripts: the execution delay (`proposals` readyAt, countdown, schedule,
execute before readyAt refused with nothing sent, the guardian's cancel), the new `propose` actions and their
decoded refusals, and `ape run deploy --execution-delay`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from support.cli import RunCli, invoke
from support.pool import DAILY_APPROVAL_LIMIT, EVIDENCE, REJECTED, USDT, ClaimFiler, Governance

DELAY = 48 * 3_600
COUNTDOWN_48H = re.compile(r"ready in (47h 59m|48h 0m)")


def _proposal_id(output: str) -> int:
    return int(output.split("Proposal #", 1)[1].split(" ", 1)[0])


@pytest.fixture
def delayed(gov: Governance, guard: Any) -> Any:
    """The configured guard with a 48 h execution delay (set while the delay was 0)."""
    gov(guard.setExecutionDelay, DELAY)
    assert guard.executionDelay() == DELAY
    return guard


def test_proposals__delay__scheduled_countdown_then_ready_and_executed(
    run_cli: RunCli, delayed: Any, signers: list[Any], chain: Any
) -> None:
    guard = delayed
    proposed = run_cli("propose", "set-max-payout", "4000 USDT", account=signers[0])
    assert proposed.exit_code == 0, proposed.output
    assert "not scheduled yet" in proposed.output
    proposal_id = _proposal_id(proposed.output)
    listed = run_cli("proposals")
    assert "not scheduled" in listed.output and "pending" in listed.output
    assert "execution delay 2d (172800 s)" in listed.output

    confirmed = run_cli("proposals", "confirm", str(proposal_id), account=signers[1])

    assert confirmed.exit_code == 0, confirmed.output
    ready_at = int(guard.getProposal(proposal_id).readyAt)
    assert ready_at == chain.blocks.head.timestamp + DELAY
    assert "2/2 confirmations (scheduled)" in confirmed.output
    assert COUNTDOWN_48H.search(confirmed.output), confirmed.output
    listed = run_cli("proposals", "list")
    assert "scheduled" in listed.output and COUNTDOWN_48H.search(listed.output), listed.output
    shown = run_cli("proposals", "show", str(proposal_id))
    assert f"readyAt {ready_at}: " in shown.output and COUNTDOWN_48H.search(shown.output)

    chain.mine(timestamp=ready_at)
    ready = run_cli("proposals", "list")
    assert "│ ready " in ready.output, ready.output
    executed = run_cli("proposals", "execute", str(proposal_id), account=signers[0])
    assert executed.exit_code == 0, executed.output
    assert guard.getProposal(proposal_id).executed
    assert guard.maxPayoutPerClaim() == 4_000 * USDT


def test_proposals_execute__before_ready_at__refused_nothing_sent(
    run_cli: RunCli, delayed: Any, signers: list[Any], chain: Any
) -> None:
    guard = delayed
    proposal_id = _proposal_id(run_cli("propose", "set-max-payout", "4000", account=signers[0]).output)
    guard.confirm(proposal_id, sender=signers[1])
    ready_at = int(guard.getProposal(proposal_id).readyAt)
    nonce, height = signers[0].nonce, chain.blocks.height

    result = run_cli("proposals", "execute", str(proposal_id), account=signers[0])

    assert result.exit_code == 1
    assert f"ProposalNotReady(proposalId={proposal_id}, readyAt={ready_at})" in result.output
    assert COUNTDOWN_48H.search(result.output), result.output
    assert (signers[0].nonce, chain.blocks.height) == (nonce, height)
    assert not guard.getProposal(proposal_id).executed


def test_proposals_execute__threshold_not_met__refused_nothing_sent(
    run_cli: RunCli, guard: Any, signers: list[Any], chain: Any
) -> None:
    proposal_id = _proposal_id(run_cli("propose", "set-max-payout", "4000", account=signers[0]).output)
    nonce, height = signers[0].nonce, chain.blocks.height

    result = run_cli("proposals", "execute", str(proposal_id), account=signers[0])

    assert result.exit_code == 1
    assert f"ThresholdNotMet(proposalId={proposal_id}, have=1, need=2)" in result.output
    assert (signers[0].nonce, chain.blocks.height) == (nonce, height)


def test_proposals_cancel__guardian_during_delay__cancelled_after__not_in_delay(
    run_cli: RunCli, delayed: Any, signers: list[Any], guardian: Any, chain: Any
) -> None:
    guard = delayed
    first = _proposal_id(run_cli("propose", "set-max-payout", "4000", account=signers[0]).output)
    guard.confirm(first, sender=signers[1])

    cancelled = run_cli("proposals", "cancel", str(first), account=guardian)

    assert cancelled.exit_code == 0, cancelled.output
    assert "setMaxPayoutPerClaim(maxPayout=4,000 USDT)" in cancelled.output
    assert guard.getProposal(first).cancelled
    second = _proposal_id(run_cli("propose", "set-max-payout", "3000", account=signers[0]).output)
    guard.confirm(second, sender=signers[1])
    ready_at = int(guard.getProposal(second).readyAt)
    chain.mine(timestamp=ready_at)
    late = run_cli("proposals", "cancel", str(second), account=guardian)
    assert late.exit_code == 1
    assert f"NotInDelay(proposalId={second}, readyAt={ready_at})" in late.output
    assert not guard.getProposal(second).cancelled


def test_proposals_schedule__threshold_lowered__unscheduled_then_scheduled(
    run_cli: RunCli, gov: Governance, guard: Any, signers: list[Any]
) -> None:
    proposal_id = _proposal_id(run_cli("propose", "set-max-payout", "4000", account=signers[0]).output)
    below = run_cli("proposals", "schedule", str(proposal_id), account=signers[1])
    assert below.exit_code == 1
    assert f"ThresholdNotMet(proposalId={proposal_id}, have=1, need=2)" in below.output
    gov(guard.setThreshold, 1)  # proposal_id now has its threshold but was never scheduled
    assert "unscheduled" in run_cli("proposals").output
    refused = run_cli("proposals", "execute", str(proposal_id), account=signers[0])
    assert refused.exit_code == 1
    assert f"ProposalNotReady(proposalId={proposal_id}, readyAt=0): not scheduled" in refused.output

    scheduled = run_cli("proposals", "schedule", str(proposal_id), account=signers[2])

    assert scheduled.exit_code == 0, scheduled.output
    ready_at = int(guard.getProposal(proposal_id).readyAt)
    assert ready_at != 0 and f"Scheduled #{proposal_id}: ready at " in scheduled.output
    again = run_cli("proposals", "schedule", str(proposal_id), account=signers[2])
    assert again.exit_code == 1
    assert f"ProposalAlreadyScheduled(proposalId={proposal_id}, readyAt={ready_at})" in again.output


def test_propose__threshold_one__scheduled_at_once(
    run_cli: RunCli, gov: Governance, guard: Any, signers: list[Any]
) -> None:
    gov(guard.setThreshold, 1)
    proposed = run_cli("propose", "set-max-payout", "4000", account=signers[0])
    assert proposed.exit_code == 0, proposed.output
    proposal_id = _proposal_id(proposed.output)
    assert int(guard.getProposal(proposal_id).readyAt) != 0
    assert "1/1 confirmations, ready at " in proposed.output


def test_propose_set_execution_delay__effect_shown(run_cli: RunCli, guard: Any, signers: list[Any]) -> None:
    result = run_cli("propose", "set-execution-delay", "48h", "--dry-run", account=signers[0])
    assert result.exit_code == 0, result.output
    assert re.search(r"executionDelay\s*│ 0 s\s*│ 2d \(172800 s\)", result.output), result.output


def test_propose_set_daily_approval_limit__effect_shown(
    run_cli: RunCli, guard: Any, signers: list[Any]
) -> None:
    result = run_cli("propose", "set-daily-approval-limit", "70000", "--dry-run", account=signers[0])
    assert result.exit_code == 0, result.output
    assert DAILY_APPROVAL_LIMIT == 60_000 * USDT
    assert re.search(r"dailyApprovalLimit\s*│ 60,000 USDT\s*│ 70,000 USDT", result.output), result.output


@pytest.mark.parametrize(
    ("action", "error"),
    [
        (
            ("set-max-payout", "60000"),
            "MaxPayoutAboveDailyPayoutLimit(maxPayoutPerClaim=60,000 USDT, dailyPayoutLimit=50,000 USDT)",
        ),
        (
            ("set-daily-payout-limit", "0"),
            "MaxPayoutAboveDailyPayoutLimit(maxPayoutPerClaim=5,000 USDT, dailyPayoutLimit=0 USDT)",
        ),
        (
            ("set-challenge-period", "30m"),
            "InvalidChallengePeriod(period=30m (1800 s), min=1h (3600 s), max=30d (2592000 s))",
        ),
        (("set-execution-delay", "7d"), "InvalidExecutionDelay(delay=7d (604800 s), max=167h (601200 s))"),
        (
            ("set-claim-grace-period", "91d"),
            "InvalidClaimGracePeriod(period=91d (7862400 s), max=90d (7776000 s))",
        ),
        (("reopen-claim", "1"), "InvalidClaimStatus(claimId=1, status=None)"),
    ],
)
def test_propose__would_revert__refused_with_decoded_error_nothing_proposed(
    run_cli: RunCli, guard: Any, signers: list[Any], action: tuple[str, ...], error: str
) -> None:
    count_before = guard.proposalCount()
    result = run_cli("propose", *action, account=signers[0])
    assert result.exit_code == 1
    assert error in result.output
    assert guard.proposalCount() == count_before


def test_propose_cancel_claim__approved__rejected_and_released(
    run_cli: RunCli, guard: Any, approved_claim: int, signers: list[Any]
) -> None:
    result = run_cli(
        "propose", "cancel-claim", str(approved_claim), "--reason", "guardian_veto", account=signers[0]
    )

    assert result.exit_code == 0, result.output
    assert f"cancelApprovedClaim(claimId={approved_claim}, reasonCode=100 (guardian_veto))" in result.output
    assert re.search(
        rf"claim #{approved_claim}\s*│ Approved, payout 800 USDT\s*│ Rejected, payout 0 USDT", result.output
    ), result.output
    assert re.search(r"reservedAmount\s*│ 800 USDT\s*│ 0 USDT", result.output), result.output
    proposal_id = _proposal_id(result.output)
    guard.confirm(proposal_id, sender=signers[1])
    executed = run_cli("proposals", "execute", str(proposal_id), account=signers[0])
    assert executed.exit_code == 0, executed.output
    assert (guard.getClaim(approved_claim).status, guard.reservedAmount()) == (REJECTED, 0)


def test_propose_cancel_claim__unknown_reason__bad_parameter(
    run_cli: RunCli, approved_claim: int, signers: list[Any]
) -> None:
    result = run_cli("propose", "cancel-claim", str(approved_claim), "--reason", "bored", account=signers[0])
    assert result.exit_code == 2
    assert "'bored' is not a reason code" in result.output


def test_propose_reopen_claim__rejected__pending_again(
    run_cli: RunCli, guard: Any, file_claim: ClaimFiler, validator: Any, signers: list[Any]
) -> None:
    claim_id = file_claim(500 * USDT)
    guard.postVerification(claim_id, False, 0, EVIDENCE, 3, sender=validator)

    result = run_cli("propose", "reopen-claim", str(claim_id), "--dry-run", account=signers[0])

    assert result.exit_code == 0, result.output
    assert f"reopenClaim(claimId={claim_id})" in result.output
    assert re.search(
        rf"claim #{claim_id}\s*│ Rejected, payout 0 USDT\s*│ Pending, payout 0 USDT", result.output
    )


def _deploy(tmp_path: Path, threshold: int, *extra: str) -> Any:
    signers = [
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",  # TEST::0, the deployer
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    ]
    argv = ["--account", "TEST::0", "--threshold", str(threshold), "--deployments-dir", str(tmp_path)]
    for signer in signers:
        argv += ["--signer", signer]
    return invoke("deploy", [*argv, *extra])


def test_deploy__execution_delay_threshold_one__executed_record_has_admin(
    tmp_path: Path, project: Any
) -> None:
    result = _deploy(tmp_path, 1, "--execution-delay", "48h")

    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "local.json").read_text())
    assert set(record) == {"network", "proxy", "implementation", "admin", "asset", "block", "abi_sha256"}
    guard = project.ILeverageGuard.at(record["proxy"])
    assert guard.ADMIN() == record["admin"]
    assert guard.executionDelay() == DELAY
    assert "Proposal #1 executed: execution delay 2d (172800 s)" in result.output


def test_deploy__execution_delay_threshold_two__proposed_for_the_other_signers(
    tmp_path: Path, project: Any
) -> None:
    result = _deploy(tmp_path, 2, "--execution-delay", "48h")

    assert result.exit_code == 0, result.output
    guard = project.ILeverageGuard.at(json.loads((tmp_path / "local.json").read_text())["proxy"])
    assert guard.executionDelay() == 0
    view = guard.getProposal(1)
    assert bytes(view.data) == bytes(guard.setExecutionDelay.encode_input(DELAY))
    assert (view.confirmations, view.readyAt) == (1, 0)
    assert "Proposal #1 sets the execution delay to 2d (172800 s)" in result.output


def test_deploy__execution_delay_too_long__refused_decoded(tmp_path: Path, project: Any) -> None:
    result = _deploy(tmp_path, 1, "--execution-delay", "31d")

    assert result.exit_code == 1
    assert "InvalidExecutionDelay(delay=31d (2678400 s), max=167h (601200 s))" in result.output
