// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {console} from "forge-std/console.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";

import {ILeverageGuardTypes} from "../../../contracts/interfaces/ILeverageGuardTypes.sol";
import {GuardFixture} from "../../utils/GuardFixture.sol";
import {GovernanceHandler} from "./GovernanceHandler.sol";

/// @title GovernanceInvariants
/// @notice Handler-based invariant campaign of the in-contract multisig (PROPERTIES.md MS-1..5, ROLE-1,
/// GOV-DELAY-1..3, SOLV-2, RISK-2, UPG-1, AUTH-1, MODEL-1). The pool is configured as in operator_toolkit/pool_setup.py,
/// funded, holds one approval inside a 3-day challenge window (the raids' veto target) and has a 48 h
/// execution delay; `GovernanceHandler` then drives signers, raiders, a rogue guardian, removed signers and
/// outsiders against it, predicting every outcome from its ghost model.
contract GovernanceInvariantsTest is StdInvariant, GuardFixture {
    uint256 internal constant EXECUTION_DELAY = 48 hours;
    uint256 internal constant RAID_TARGET_PAYOUT = 800 * USDT;
    uint256 internal constant RAID_TARGET_WINDOW = 3 days;
    /// @dev Runs (summed over every invariant campaign of this process) after which every key outcome must
    /// have happened at least once.
    uint256 internal constant COVERAGE_RUNS = 64;

    GovernanceHandler internal handler;
    /// @dev tests/fixture_contracts/LeverageGuardV2.sol, deployed from its artifact (test/targets/UpgradeTargets.sol).
    address internal v2;
    address internal raidTarget;

    /// @dev Outcomes the campaign must reach (handler counters); a campaign that drifted into doing nothing
    /// fails on them.
    string[] internal mustHappen;

    function setUp() public {
        _deployPool();
        _configure();
        _govern(abi.encodeCall(guard.setChallengePeriod, (RAID_TARGET_WINDOW)));
        _fund(POOL_FUNDS);
        _whitelist(trader, keccak256("trader-account"), COVERAGE_LIMIT, 60 days);
        uint256 claimId = _file(trader, "raid-target", RAID_TARGET_PAYOUT);
        _approve(claimId, RAID_TARGET_PAYOUT);
        _govern(abi.encodeCall(guard.setExecutionDelay, (EXECUTION_DELAY)));

        v2 = deployCode("LeverageGuardV2.sol:LeverageGuardV2", abi.encode(adminImplementation));
        address nonUups = deployCode("NonUUPSImplementation.sol:NonUUPSImplementation");
        handler = new GovernanceHandler(guard, v2, nonUups, signers, guardian, claimId);

        bytes4[] memory selectors = new bytes4[](15);
        selectors[0] = GovernanceHandler.propose.selector;
        selectors[1] = GovernanceHandler.confirm.selector;
        selectors[2] = GovernanceHandler.revokeConfirmation.selector;
        selectors[3] = GovernanceHandler.schedule.selector;
        selectors[4] = GovernanceHandler.execute.selector;
        selectors[5] = GovernanceHandler.cancel.selector;
        selectors[6] = GovernanceHandler.guardianCancel.selector;
        selectors[7] = GovernanceHandler.raid.selector;
        selectors[8] = GovernanceHandler.governanceRound.selector;
        selectors[9] = GovernanceHandler.removedSigner.selector;
        selectors[10] = GovernanceHandler.warp.selector;
        selectors[11] = GovernanceHandler.directCall.selector;
        selectors[12] = GovernanceHandler.proposeToToken.selector;
        selectors[13] = GovernanceHandler.removeRogueGuardian.selector;
        selectors[14] = GovernanceHandler.signerSetRound.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));

        mustHappen.push("executedAfterDelay");
        mustHappen.push("executedAtReadyAt");
        mustHappen.push("executeNotReady");
        mustHappen.push("executeExpired");
        mustHappen.push("executeThresholdNotMet");
        mustHappen.push("innerRevertLeftOpen");
        mustHappen.push("guardianCancelInDelay");
        mustHappen.push("guardianNotInDelay");
        mustHappen.push("guardianRemovalNotCancellable");
        mustHappen.push("raidBlockedNotReady");
        mustHappen.push("raidCancelledByGuardian");
        mustHappen.push("thresholdChanged");
        mustHappen.push("signerRemoved");
        mustHappen.push("signerReAdded");
        mustHappen.push("staleConfirmationDropped");
        mustHappen.push("removedSignerRefused");
        mustHappen.push("upgradedToV2");
        mustHappen.push("upgradedToV1");
        mustHappen.push("tokenTargetRefused");
        mustHappen.push("risk2Refused");
        mustHappen.push("auth1Refused");
        mustHappen.push("withdrawn");
        mustHappen.push("delayChanged");
    }

    // ================================================================== valid states

    /// @notice MS-1: 1 <= threshold <= signers <= 20, no duplicate signers, and the set is the model's.
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_MS_1__threshold_between_one_and_signer_count_no_duplicates() public view {
        address[] memory current = guard.getSigners();
        uint256 t = guard.threshold();
        assertGe(t, 1, "threshold >= 1");
        assertLe(t, current.length, "threshold <= signers");
        assertLe(current.length, guard.MAX_SIGNERS(), "signers <= 20");
        for (uint256 i = 0; i < current.length; ++i) {
            assertTrue(guard.isSigner(current[i]), "listed signer is a signer");
            for (uint256 j = i + 1; j < current.length; ++j) {
                assertNotEq(current[i], current[j], "duplicate signer");
            }
        }
        assertEq(current, handler.ghostSigners(), "signer set as modelled");
        assertEq(t, handler.gThreshold(), "threshold as modelled");
        _assertNoViolation("MS-1");
    }

    /// @notice ROLE-1: DEFAULT_ADMIN_ROLE is held by the proxy and by none of the campaign's actors, however
    /// governance tried to grant or revoke it.
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_ROLE_1__default_admin_role_held_by_the_proxy_only() public view {
        bytes32 admin = guard.DEFAULT_ADMIN_ROLE();
        assertTrue(guard.hasRole(admin, address(guard)), "proxy holds DEFAULT_ADMIN_ROLE");
        for (uint256 i = 0; i < handler.candidateCount(); ++i) {
            assertFalse(guard.hasRole(admin, handler.candidate(i)), "candidate signer holds admin");
        }
        for (uint256 i = 0; i < handler.roleAccountCount(); ++i) {
            assertFalse(guard.hasRole(admin, handler.roleAccount(i)), "guardian holds admin");
        }
        assertFalse(guard.hasRole(admin, handler.attacker()), "attacker holds admin");
        assertFalse(guard.hasRole(admin, handler.stranger()), "stranger holds admin");
        assertFalse(guard.hasRole(admin, address(handler)), "handler holds admin");
        assertFalse(guard.hasRole(admin, address(implementation)), "implementation holds admin");
        _assertNoViolation("ROLE-1");
    }

    /// @notice SOLV-2: the pool asset leaves only through `withdraw` (to the raiders' address, within the
    /// daily limit and the free balance): the balance is the funding minus what the model withdrew, the
    /// reservation is still covered, and every proposal targeting the token was refused.
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_SOLV_2__pool_asset_moves_only_through_withdraw() public view {
        GovernanceHandler.Governed memory m = handler.ghostGoverned();
        uint256 withdrawn = token.balanceOf(handler.attacker());
        assertEq(token.balanceOf(address(guard)), POOL_FUNDS - withdrawn, "balance = funds - withdrawals");
        assertEq(token.balanceOf(address(guard)), m.balance, "balance as modelled");
        assertEq(withdrawn, m.attackerBalance, "withdrawals as modelled");
        assertGe(guard.totalAssets(), guard.reservedAmount(), "reservation covered");
        _assertNoViolation("SOLV-2");
    }

    // ================================================================== state transitions

    /// @notice MS-2: a proposal executes at most once, and an execution whose call reverts leaves it open
    /// (checked on the proposal the last step touched; every proposal in afterInvariant).
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_MS_2__each_proposal_executes_at_most_once() public view {
        _checkProposal(handler.lastTouched());
        _assertNoViolation("MS-2");
    }

    /// @notice MS-3: the live confirmation count counts only current signers' current-epoch confirmations:
    /// getProposal().confirmations and hasConfirmed equal the model, for every candidate address, including
    /// removed and re-added signers.
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_MS_3__only_current_signers_current_epoch_confirmations_count() public view {
        uint256 id = handler.lastTouched();
        if (id != 0) {
            assertEq(guard.getProposal(id).confirmations, handler.ghostLive(id), "live confirmations");
            for (uint256 i = 0; i < handler.candidateCount(); ++i) {
                address c = handler.candidate(i);
                assertEq(guard.hasConfirmed(id, c), handler.ghostHasConfirmed(id, c), "hasConfirmed");
            }
        }
        _assertNoViolation("MS-3");
    }

    /// @notice MS-4: cancelled or expired proposals never execute; no proposal is executed and cancelled.
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_MS_4__expired_or_cancelled_proposals_never_execute() public view {
        uint256 id = handler.lastTouched();
        if (id != 0) {
            ILeverageGuardTypes.ProposalView memory p = guard.getProposal(id);
            assertFalse(p.executed && p.cancelled, "executed and cancelled");
            if (p.executed) assertLt(handler.ghostProposal(id).executedAt, p.expiresAt, "executed after expiry");
        }
        _assertNoViolation("MS-4");
    }

    /// @notice MS-5: every executed proposal had 0 < readyAt <= executedAt.
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_MS_5__executed_proposals_waited_for_ready_at() public view {
        uint256 id = handler.lastTouched();
        if (id != 0) {
            ILeverageGuardTypes.ProposalView memory p = guard.getProposal(id);
            if (p.executed) {
                assertGt(p.readyAt, 0, "executed unscheduled");
                assertLe(p.readyAt, handler.ghostProposal(id).executedAt, "executed before readyAt");
            }
        }
        _assertNoViolation("MS-5");
    }

    /// @notice GOV-DELAY-1: nothing governance does takes effect before its delay: after every step the
    /// governed values (every limit and period, lifetime, delay, threshold, signers, guardian roles, pool
    /// balance, reservation, the raid target's status) equal the model's, and they changed only in a step
    /// that executed a proposal at or after its readyAt; guardians cancel only during the delay.
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_GOV_DELAY_1__governed_state_changes_only_at_ready_executions() public view {
        GovernanceHandler.Governed memory m = handler.ghostGoverned();
        assertEq(guard.dailyWithdrawalLimit(), m.withdrawLimit, "dailyWithdrawalLimit");
        assertEq(guard.challengePeriod(), m.challenge, "challengePeriod");
        assertEq(guard.executionDelay(), m.delay, "executionDelay");
        assertEq(guard.proposalLifetime(), m.lifetime, "proposalLifetime");
        assertEq(guard.reservedAmount(), m.reserved, "reservedAmount");
        assertEq(uint8(guard.getClaim(_claimId()).status), m.claimStatus, "raid target status");
        assertEq(handler.modelMismatch(), "", "GOV-DELAY-1: governed value differs from the model");
        _assertNoViolation("GOV-DELAY-1");
    }

    /// @notice GOV-DELAY-2: upgradeToAndCall waits out the delay like any proposal: the implementation is
    /// the model's and changed only in a step that executed an upgrade proposal at or after its readyAt.
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_GOV_DELAY_2__upgrades_take_effect_only_after_the_delay() public view {
        assertEq(_implementationSlot(), handler.ghostGoverned().implementation, "implementation");
        _assertNoViolation("GOV-DELAY-2");
    }

    /// @notice GOV-DELAY-3: no guardian ever cancelled a proposal whose every call is revokeRole(GUARDIAN_ROLE,
    /// ...) (alone or in a multicall); padded or mixed ones stay cancellable (predicted and checked).
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_GOV_DELAY_3__guardian_cannot_cancel_guardian_removals() public view {
        uint256 id = handler.lastTouched();
        if (id != 0) {
            GovernanceHandler.GhostProposal memory p = handler.ghostProposal(id);
            assertEq(guard.getProposal(id).cancelled, p.cancelled, "cancelled as modelled");
        }
        _assertNoViolation("GOV-DELAY-3");
    }

    // ================================================================== high-level / risk

    /// @notice RISK-2: a proposal cannot act as a signer: the contract is no signer, and proposals calling
    /// execute or confirm revert NotSigner(proxy) (predicted for every such execution).
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_RISK_2__proposal_cannot_execute_other_proposals() public view {
        assertFalse(guard.isSigner(address(guard)), "proxy is a signer");
        _assertNoViolation("RISK-2");
    }

    /// @notice UPG-1: upgrades to LeverageGuardV2 and back keep every piece of modelled state, and the live
    /// version is the model's implementation's.
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_UPG_1__state_kept_across_upgrades() public view {
        address current = handler.ghostGoverned().implementation;
        string memory expected = current == address(v2) ? "2.0.0" : "1.1.0";
        assertEq(guard.version(), expected, "version of the live implementation");
        assertEq(guard.asset(), address(token), "asset kept");
        assertEq(guard.proposalCount(), handler.gCount(), "proposals kept");
        assertEq(handler.modelMismatch(), "", "UPG-1: state as modelled across upgrades");
        _assertNoViolation("UPG-1");
    }

    /// @notice AUTH-1: every governance function called directly (by a stranger, a signer, a guardian, the
    /// attacker) reverts OnlyGovernance(caller) / AccessControlUnauthorizedAccount(caller, 0x00), and every
    /// multisig function called by a non-signer reverts NotSigner(caller).
    /// forge-config: default.invariant.runs = 5
    /// forge-config: deep.invariant.runs = 20
    function invariant_AUTH_1__governance_functions_reject_direct_callers() public view {
        _assertNoViolation("AUTH-1");
    }

    /// @notice MODEL-1 (governance part): every call's outcome was the model's prediction (success, or the
    /// exact revert data) and the chain equals the model after every step. This is the full campaign (the
    /// profile's runs: 256 x 200 by default, 1,000 x 500 deep); the per-property invariants above run a few
    /// runs each, since forge 1.7.1 gives every invariant function a campaign of its own.
    function invariant_MODEL_1__every_outcome_as_predicted() public view {
        assertEq(handler.modelMismatch(), "", "MODEL-1: governed value differs from the model");
        _assertNoViolation("MODEL-1");
    }

    // ================================================================== end of run

    /// @notice At the end of each run: every campaign proposal on chain equals its ghost (fields, live count,
    /// hasConfirmed of every candidate); and, summed over the runs so far, every key outcome happened.
    function afterInvariant() public {
        for (uint256 id = handler.baseProposalCount() + 1; id <= handler.gCount(); ++id) {
            _checkProposal(id);
        }
        _accumulateCoverage();
    }

    // ================================================================== helpers

    /// @dev The property's own violations first (a precise message), then any violation the handler saw:
    /// every campaign checks the whole model, whichever invariant it runs for.
    function _assertNoViolation(string memory id) internal view {
        assertEq(handler.violationsFor(id), 0, handler.firstViolation());
        assertEq(handler.violations(), 0, handler.firstViolation());
    }

    function _checkProposal(uint256 id) internal view {
        if (id == 0) return;
        ILeverageGuardTypes.ProposalView memory p = guard.getProposal(id);
        GovernanceHandler.GhostProposal memory q = handler.ghostProposal(id);
        assertEq(p.executed, q.executed, "executed as modelled");
        assertEq(p.cancelled, q.cancelled, "cancelled as modelled");
        assertFalse(p.executed && p.cancelled, "MS-4: executed and cancelled");
        assertEq(p.readyAt, q.readyAt, "readyAt as modelled");
        assertEq(p.expiresAt, q.expiresAt, "expiresAt as modelled");
        assertEq(p.proposer, q.proposer, "proposer as modelled");
        assertEq(p.target, address(guard), "SOLV-2: proposal targets the contract");
        assertEq(keccak256(p.data), q.dataHash, "data as modelled");
        assertEq(p.confirmations, handler.ghostLive(id), "MS-3: live confirmations");
        for (uint256 i = 0; i < handler.candidateCount(); ++i) {
            address c = handler.candidate(i);
            assertEq(guard.hasConfirmed(id, c), handler.ghostHasConfirmed(id, c), "MS-3: hasConfirmed");
        }
        if (p.executed) {
            assertGt(p.readyAt, 0, "MS-5: executed unscheduled");
            assertLe(p.readyAt, q.executedAt, "MS-5: executed before readyAt");
            assertLt(q.executedAt, p.expiresAt, "MS-4: executed after expiry");
        }
    }

    /// @dev Handler state is reset for every run, so the campaign's totals live in environment variables of
    /// the forge process.
    function _accumulateCoverage() internal {
        uint256 runs = vm.envOr("LG_GOV_INV_RUNS", uint256(0)) + 1;
        vm.setEnv("LG_GOV_INV_RUNS", vm.toString(runs));
        // forge shows the logs of a passing invariant's last run: the campaign totals so far
        bool report = true;
        if (report) console.log("governance campaign totals after runs:", runs);
        for (uint256 i = 0; i < mustHappen.length; ++i) {
            string memory key = string.concat("LG_GOV_INV_", mustHappen[i]);
            uint256 total = vm.envOr(key, uint256(0)) + handler.count(mustHappen[i]);
            vm.setEnv(key, vm.toString(total));
            if (report) console.log(mustHappen[i], total);
            if (runs >= COVERAGE_RUNS) {
                assertGt(total, 0, string.concat("key outcome never reached: ", mustHappen[i]));
            }
        }
    }

    function _claimId() internal view returns (uint256) {
        return handler.claimId();
    }

    function _implementationSlot() internal view returns (address) {
        return address(
            uint160(
                uint256(
                    vm.load(address(guard), 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc)
                )
            )
        );
    }
}
