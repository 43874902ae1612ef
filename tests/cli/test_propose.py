"""`ape run propose` and `ape run proposals` through click, against anvil (2-of-3 multisig, `configured`)."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from support.cli import RunCli
from support.pool import USDT, Governance

from operator_toolkit.deployment import deploy_implementation
from operator_toolkit.multisig import encode_multicall


def _proposal_id(output: str) -> int:
    marker = output.split("Proposal #", 1)[1]
    return int(marker.split(" ", 1)[0])


def test_withdraw__two_of_three__propose_confirm_execute(
    run_cli: RunCli, guard: Any, token: Any, signers: list[Any], stranger: Any
) -> None:
    pool_before = guard.totalAssets()

    proposed = run_cli("propose", "withdraw", stranger.address, "2500 USDT", account=signers[0])
    assert proposed.exit_code == 0, proposed.output
    assert f"withdraw(to={stranger.address}, amount=2,500 USDT)" in proposed.output
    assert (
        "100,000 USDT" in proposed.output and "97,500 USDT" in proposed.output
    )  # totalAssets before -> after
    proposal_id = _proposal_id(proposed.output)
    assert guard.proposalCount() == proposal_id
    assert guard.getProposal(proposal_id).confirmations == 1

    listed = run_cli("proposals")  # list is the default
    assert listed.exit_code == 0, listed.output
    assert "1/2" in listed.output and "pending" in listed.output

    confirmed = run_cli("proposals", "confirm", str(proposal_id), account=signers[1])
    assert confirmed.exit_code == 0, confirmed.output
    assert "2/2 confirmations (ready)" in confirmed.output

    executed = run_cli("proposals", "execute", str(proposal_id), account=signers[2])
    assert executed.exit_code == 0, executed.output
    assert guard.getProposal(proposal_id).executed
    assert token.balanceOf(stranger) == 2_500 * USDT
    assert guard.totalAssets() == pool_before - 2_500 * USDT
    assert guard.withdrawnToday() == 2_500 * USDT


def test_propose_withdraw__over_daily_limit__refused_before_chain(
    run_cli: RunCli, guard: Any, signers: list[Any], stranger: Any
) -> None:
    count_before = guard.proposalCount()

    result = run_cli("propose", "withdraw", stranger.address, "30000 USDT", account=signers[0])

    assert result.exit_code == 1
    assert "DailyLimitExceeded(requested=30,000 USDT, remaining=20,000 USDT)" in result.output
    assert guard.proposalCount() == count_before


def test_propose__malformed_amount__bad_parameter(run_cli: RunCli, guard: Any, signers: list[Any]) -> None:
    result = run_cli("propose", "set-daily-payout-limit", "12.5.3 USDT", account=signers[0])
    assert result.exit_code == 2
    assert "'12.5.3 USDT'" in result.output
    result = run_cli("propose", "set-daily-payout-limit", "12 DAI", account=signers[0])
    assert result.exit_code == 2
    assert "pool's token is USDT" in result.output


def test_propose_grant_role__by_name__shows_role_change(
    run_cli: RunCli, guard: Any, signers: list[Any], stranger: Any
) -> None:
    result = run_cli(
        "propose",
        "grant-role",
        "validator",
        stranger.address,
        account=signers[0],
    )
    assert result.exit_code == 0, result.output
    assert f"grantRole(role=VALIDATOR, account={stranger.address})" in result.output
    assert "false" in result.output and "true" in result.output
    assert not guard.hasRole(guard.VALIDATOR_ROLE(), stranger)


def test_propose__dry_run__nothing_proposed(run_cli: RunCli, guard: Any, signers: list[Any]) -> None:
    count_before = guard.proposalCount()
    result = run_cli("propose", "set-challenge-period", "6h", "--dry-run", account=signers[0])
    assert result.exit_code == 0, result.output
    assert "setChallengePeriod(period=6h (21600 s))" in result.output
    assert guard.proposalCount() == count_before


def test_proposals_execute__expired__refused(
    run_cli: RunCli, guard: Any, signers: list[Any], chain: Any
) -> None:
    proposed = run_cli("propose", "set-max-payout", "4000 USDT", account=signers[0])
    proposal_id = _proposal_id(proposed.output)
    guard.confirm(proposal_id, sender=signers[1])
    expires_at = guard.getProposal(proposal_id).expiresAt
    chain.mine(timestamp=expires_at + 1)

    listed = run_cli("proposals", "list", "--all")
    assert "expired" in listed.output
    result = run_cli("proposals", "execute", str(proposal_id), account=signers[0])

    assert result.exit_code == 1
    assert f"ProposalExpired(proposalId={proposal_id}, expiresAt={expires_at})" in result.output
    assert not guard.getProposal(proposal_id).executed
    with ape.reverts(guard.ProposalExpired):
        guard.execute(proposal_id, sender=signers[0])


def test_proposals_confirm__twice__decoded_error(run_cli: RunCli, guard: Any, signers: list[Any]) -> None:
    proposed = run_cli("propose", "unpause", "claims,payouts", account=signers[0])
    assert proposed.exit_code == 0, proposed.output
    assert "unpause(flags=claims|payouts)" in proposed.output
    proposal_id = _proposal_id(proposed.output)

    result = run_cli("proposals", "confirm", str(proposal_id), account=signers[0])

    assert result.exit_code == 1
    assert f"AlreadyConfirmed(proposalId={proposal_id}, signer={signers[0].address})" in result.output


def test_proposals_revoke_and_cancel(run_cli: RunCli, guard: Any, signers: list[Any]) -> None:
    proposed = run_cli("propose", "set-daily-payout-limit", "60000", account=signers[0])
    proposal_id = _proposal_id(proposed.output)
    guard.confirm(proposal_id, sender=signers[1])

    revoked = run_cli("proposals", "revoke", str(proposal_id), account=signers[1])
    assert revoked.exit_code == 0, revoked.output
    assert not guard.hasConfirmed(proposal_id, signers[1])
    not_proposer = run_cli("proposals", "cancel", str(proposal_id), account=signers[1])
    assert not_proposer.exit_code == 1
    assert f"NotProposer(proposalId={proposal_id}, caller={signers[1].address})" in not_proposer.output
    cancelled = run_cli("proposals", "cancel", str(proposal_id), account=signers[0])
    assert cancelled.exit_code == 0, cancelled.output
    assert guard.getProposal(proposal_id).cancelled
    assert "No open proposals." in run_cli("proposals", "list").output


def test_propose_add_signer_then_threshold__effects_shown(
    run_cli: RunCli, guard: Any, signers: list[Any], stranger: Any
) -> None:
    added = run_cli("propose", "add-signer", stranger.address, account=signers[0])
    assert added.exit_code == 0, added.output
    assert f"isSigner {stranger.address}" in added.output
    too_high = run_cli("propose", "set-threshold", "4", account=signers[0])
    assert too_high.exit_code == 1
    assert "InvalidThreshold(threshold=4, signerCount=3)" in too_high.output
    ok = run_cli("propose", "set-threshold", "3", account=signers[0])
    assert ok.exit_code == 0, ok.output
    assert "threshold" in ok.output and "│ 2 " in ok.output and "│ 3 " in ok.output


def test_propose_upgrade__not_uups__refused_with_decoded_error(
    run_cli: RunCli, guard: Any, token: Any, signers: list[Any]
) -> None:
    count_before = guard.proposalCount()
    result = run_cli("propose", "upgrade", token.address, account=signers[0])
    assert result.exit_code == 1
    assert f"ERC1967InvalidImplementation(implementation={token.address})" in result.output
    assert guard.proposalCount() == count_before


def test_propose_upgrade__new_implementation__simulated(
    run_cli: RunCli, guard: Any, project: Any, deployer: Any, signers: list[Any]
) -> None:
    implementation, _ = deploy_implementation(project, deployer)
    result = run_cli("propose", "upgrade", implementation.address, "--dry-run", account=signers[0])
    assert result.exit_code == 0, result.output
    assert f"upgradeToAndCall(newImplementation={implementation.address}, data=0x)" in result.output


def test_propose_raw__multicall__decoded_call_by_call(
    run_cli: RunCli, guard: Any, signers: list[Any]
) -> None:
    calls = [(guard.setDailyPayoutLimit, (70_000 * USDT,)), (guard.setMaxPayoutPerClaim, (6 * USDT,))]
    data = "0x" + encode_multicall(guard, calls).hex()

    result = run_cli("propose", "raw", guard.address, "0", data, account=signers[0])

    assert result.exit_code == 0, result.output
    assert "setDailyPayoutLimit(limit=70,000 USDT)" in result.output
    assert "setMaxPayoutPerClaim(maxPayout=6 USDT)" in result.output
    shown = run_cli("proposals", "show", str(guard.proposalCount()))
    assert shown.exit_code == 0, shown.output
    assert "setMaxPayoutPerClaim(maxPayout=6 USDT)" in shown.output


def test_propose_raw__other_target__refused(run_cli: RunCli, token: Any, signers: list[Any]) -> None:
    result = run_cli("propose", "raw", token.address, "0", "0x", account=signers[0])
    assert result.exit_code == 1
    assert "may only call the guard" in result.output


def test_proposals_confirm__would_revert_now__needs_anyway(
    run_cli: RunCli, gov: Governance, guard: Any, signers: list[Any], stranger: Any
) -> None:
    proposal_id = gov.propose(guard.withdraw, stranger, 15_000 * USDT)
    gov(guard.withdraw, stranger, 10_000 * USDT)  # 10,000 of today's 20,000 gone: 15,000 no longer fits

    refused = run_cli("proposals", "confirm", str(proposal_id), account=signers[1])
    assert refused.exit_code == 1
    assert "DailyLimitExceeded(requested=15,000 USDT, remaining=10,000 USDT)" in refused.output
    assert "--anyway" in refused.output
    assert not guard.hasConfirmed(proposal_id, signers[1])

    confirmed = run_cli("proposals", "confirm", str(proposal_id), "--anyway", account=signers[1])
    assert confirmed.exit_code == 0, confirmed.output
    assert guard.hasConfirmed(proposal_id, signers[1])


@pytest.mark.parametrize(
    ("action", "decoded"),
    [
        (("revoke-role", "registrar", "{registrar}"), "revokeRole(role=REGISTRAR, account={registrar})"),
        (("remove-signer", "{signer2}"), "removeSigner(signer={signer2})"),
        (("set-daily-withdrawal-limit", "1.5 USDT"), "setDailyWithdrawalLimit(limit=1.5 USDT)"),
        (("set-daily-payout-limit", "60,000"), "setDailyPayoutLimit(limit=60,000 USDT)"),
        (("set-daily-approval-limit", "70000 USDT"), "setDailyApprovalLimit(limit=70,000 USDT)"),
        (("set-max-coverage", "40000"), "setMaxCoverageLimit(maxLimit=40,000 USDT)"),
        (("set-execution-delay", "48h"), "setExecutionDelay(delay=2d (172800 s))"),
        (("set-claim-grace-period", "14d"), "setClaimGracePeriod(period=14d (1209600 s))"),
        (("set-proposal-lifetime", "10d"), "setProposalLifetime(lifetime=10d (864000 s))"),
        (("set-max-payout", "7,000"), "setMaxPayoutPerClaim(maxPayout=7,000 USDT)"),
        (("set-challenge-period", "2d"), "setChallengePeriod(period=2d (172800 s))"),
        (("unpause", "all"), "unpause(flags=claims|verifications|payouts|withdrawals|deposits)"),
    ],
)
def test_propose__every_action__dry_run_decodes(
    run_cli: RunCli,
    guard: Any,
    signers: list[Any],
    registrar: Any,
    action: tuple[str, ...],
    decoded: str,
) -> None:
    names = {"registrar": registrar.address, "signer2": signers[2].address}
    result = run_cli("propose", *(a.format(**names) for a in action), "--dry-run", account=signers[0])
    assert result.exit_code == 0, result.output
    assert decoded.format(**names) in result.output
    assert "Dry run: nothing proposed." in result.output


def test_propose_rescue_token__stray_token__ok_pool_asset_refused(
    run_cli: RunCli, guard: Any, token: Any, project: Any, deployer: Any, signers: list[Any], stranger: Any
) -> None:
    stray = deployer.deploy(project.TestUSDT)
    stray.mint(guard, 42 * USDT, sender=deployer)

    ok = run_cli(
        "propose", "rescue-token", stray.address, stranger.address, "42", "--dry-run", account=signers[0]
    )
    assert ok.exit_code == 0, ok.output
    assert f"rescueToken(token={stray.address}, to={stranger.address}, amount=42 USDT)" in ok.output
    asset = run_cli("propose", "rescue-token", token.address, stranger.address, "1", account=signers[0])
    assert asset.exit_code == 1
    assert f"CannotRescueAsset(token={token.address})" in asset.output
