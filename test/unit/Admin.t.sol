// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ILeverageGuardTypes, IMultisigGovernanceTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";
import {MockStablecoin} from "../mocks/MockStablecoin.sol";
import {GuardFixture} from "../utils/GuardFixture.sol";

/// @title AdminTest
/// @notice Unit tests of the admin half that the campaigns do not pin exactly (found missing by
/// `make mutate`: BA-02, AD-21, AD-07, AD-24, AD-26, MS-06): every role-or-governance function refuses an outsider with
/// `Unauthorized(caller)`, the pool asset cannot be rescued, a batch veto at exactly `payableAt` is skipped, and
/// a cancellation emits ClaimCancelled, and an execution ProposalExecuted.
contract AdminTest is GuardFixture {
    address internal intruder = makeAddr("intruder");

    function setUp() public {
        _deployPool();
        _configure();
        _fund(POOL_FUNDS);
        _whitelist(trader, keccak256("trader-account"), COVERAGE_LIMIT, 30 days);
    }

    /// @notice AUTH-1: the functions gated by a role or governance revert `Unauthorized(intruder)`.
    function test_role_or_governance_functions__outsider__reverts_unauthorized() public {
        address[] memory users = new address[](1);
        users[0] = trader;
        bytes32[] memory refs = new bytes32[](1);
        refs[0] = keccak256("other");
        uint256[] memory ids = new uint256[](1);
        ids[0] = 1;
        bytes[] memory calls = new bytes[](7);
        calls[0] = abi.encodeCall(guard.vetoClaim, (1, 100));
        calls[1] = abi.encodeCall(guard.vetoClaims, (ids, 100));
        calls[2] = abi.encodeCall(guard.pause, (guard.PAUSE_ALL()));
        calls[3] = abi.encodeCall(guard.addToWhitelist, (users, refs, COVERAGE_LIMIT, block.timestamp + 1 days));
        calls[4] = abi.encodeCall(guard.extendCoverage, (users, COVERAGE_LIMIT, block.timestamp + 60 days));
        calls[5] = abi.encodeCall(guard.removeFromWhitelist, (users));
        calls[6] = abi.encodeCall(guard.addToBlacklist, (users));
        for (uint256 i = 0; i < calls.length; ++i) {
            vm.prank(intruder);
            (bool ok, bytes memory ret) = address(guard).call(calls[i]);
            assertFalse(ok, "an outsider's call succeeded");
            assertEq(ret, abi.encodeWithSelector(ILeverageGuardTypes.Unauthorized.selector, intruder), "error");
        }
        assertTrue(guard.isWhitelisted(trader), "policy untouched");
        assertFalse(guard.isBlacklisted(trader), "not blacklisted");
        assertEq(guard.pausedFlags(), 0, "not paused");
    }

    /// @notice SOLV-2: governance cannot rescue the pool asset (only withdraw moves it); a stray token it can.
    function test_rescueToken__pool_asset__reverts_cannot_rescue_asset() public {
        _governReverts(
            abi.encodeCall(guard.rescueToken, (address(token), sponsor, 1)),
            abi.encodeWithSelector(ILeverageGuardTypes.CannotRescueAsset.selector, address(token))
        );
        assertEq(token.balanceOf(address(guard)), POOL_FUNDS, "pool untouched");

        MockStablecoin stray = new MockStablecoin();
        stray.mint(address(guard), 7);
        uint256 rescue = _schedule(abi.encodeCall(guard.rescueToken, (address(stray), sponsor, 7)));
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.TokenRescued(address(stray), sponsor, 7);
        vm.prank(signers[0]);
        guard.execute(rescue);
        assertEq(stray.balanceOf(sponsor), 7, "stray token returned");
    }

    /// @notice CLAIM-5: a batch veto one second before `payableAt` vetoes; at `payableAt` it is skipped with
    /// SKIP_CHALLENGE_WINDOW_OVER and the approval stands.
    function test_vetoClaims__at_payable_at__skipped_window_over() public {
        uint256 early = _file(trader, "order-1", 300 * USDT);
        uint256 late = _file(trader, "order-2", 300 * USDT);
        _approve(early, 300 * USDT);
        _approve(late, 300 * USDT);
        uint256 payableAt = guard.getClaim(late).payableAt;
        uint256[] memory ids = new uint256[](1);

        vm.warp(payableAt - 1);
        ids[0] = early;
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.ClaimVetoed(early, guardian, trader, 300 * USDT, 100);
        vm.prank(guardian);
        guard.vetoClaims(ids, 100);

        vm.warp(payableAt);
        ids[0] = late;
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.VetoSkipped(late, guard.SKIP_CHALLENGE_WINDOW_OVER());
        vm.prank(guardian);
        guard.vetoClaims(ids, 100);
        assertEq(uint8(_status(early)), uint8(ILeverageGuardTypes.ClaimStatus.Rejected), "vetoed in the window");
        assertEq(uint8(_status(late)), uint8(ILeverageGuardTypes.ClaimStatus.Approved), "window over: stands");
        assertEq(guard.reservedAmount(), 300 * USDT, "only the vetoed one released");
    }

    /// @notice CLAIM-7: governance's cancellation of an approval emits ClaimCancelled with the released amount.
    function test_cancelApprovedClaim__approved__emits_claim_cancelled() public {
        uint256 claimId = _file(trader, "order-3", 400 * USDT);
        _approve(claimId, 400 * USDT);
        uint256 proposalId = _schedule(abi.encodeCall(guard.cancelApprovedClaim, (claimId, 7)));
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.ClaimCancelled(claimId, trader, 400 * USDT, 7);
        vm.prank(signers[0]);
        guard.execute(proposalId);
        assertEq(guard.reservedAmount(), 0, "released");
        assertEq(guard.getPolicy(trader).used, 0, "policy released");
    }

    /// @notice MS-2: executing a proposal emits ProposalExecuted with the executor, before its call's events.
    function test_execute__scheduled__emits_proposal_executed() public {
        uint256 proposalId = _schedule(abi.encodeCall(guard.setDailyWithdrawalLimit, (1_000 * USDT)));
        vm.expectEmit(address(guard));
        emit IMultisigGovernanceTypes.ProposalExecuted(proposalId, signers[0]);
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.DailyWithdrawalLimitChanged(DAILY_WITHDRAWAL_LIMIT, 1_000 * USDT);
        vm.prank(signers[0]);
        guard.execute(proposalId);
        assertTrue(guard.getProposal(proposalId).executed, "executed");
    }
}
