// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";
import {ProofFixture} from "./ProofFixture.sol";

/// @title ClaimProofs
/// @notice halmos proofs of the claim money paths over the proxied pool: a verdict (`postVerification`, the
/// `_verify` path), `executePayout`, `vetoClaim` and `cancelApprovedClaim`, each for every pool balance,
/// reservation, policy state, limit, daily counter, time and amount (SOLV-1, ACCT-2, ACCT-3, CLAIM-3, LIM-2,
/// LIM-3, LIM-4).
contract ClaimProofs is ProofFixture {
    /// @notice SOLV-1, ACCT-3, CLAIM-3, LIM-4: an approval of any payout, from any state with balance >=
    /// reserved and used <= coverageLimit, at any time, succeeds exactly when
    /// 0 < payout <= min(claimedLoss, remaining coverage, maxPayoutPerClaim), payout <= freeBalance() and payout
    /// <= what the daily approval limit leaves today (0 when the limit is below approvedToday: no underflow);
    /// each cap exceeded reverts with its exact error. On success reserved and the policy's `used` grow by
    /// exactly the payout, the balance is untouched, balance >= reserved still holds, the claim is Approved
    /// for `payout`, payable CHALLENGE_PERIOD later, and approvedToday() is the day's earlier sum (0 if the
    /// stored window is of another UTC day) plus the payout, never above the limit. No loops.
    function check_postVerification__approval__within_every_cap_and_solvent(
        uint96 balance,
        uint96 reserved,
        uint96 coverageLimit,
        uint96 used,
        uint96 claimedLoss,
        uint96 maxPayoutPerClaim,
        uint96 approvalLimit,
        uint32 approvalDay,
        uint96 approvedInDay,
        uint40 time,
        uint256 payout
    ) public {
        vm.assume(reserved <= balance);
        vm.assume(coverageLimit > 0 && used <= coverageLimit);
        vm.assume(claimedLoss > 0 && claimedLoss <= coverageLimit - used);
        vm.assume(time >= START_TIME && time <= type(uint40).max - COVERAGE_TERM - CHALLENGE_PERIOD);
        vm.warp(time);
        _poolBalance(balance);
        _storeReserved(reserved);
        _setPayoutLimits(type(uint96).max, maxPayoutPerClaim);
        _asGovernance();
        guard.setDailyApprovalLimit(approvalLimit);
        _storeApprovalWindow(approvalDay, approvedInDay);
        _whitelistTrader(coverageLimit);
        _storeUsed(used);
        uint256 claimId = _file(claimedLoss);

        uint256 cap = _min(_min(claimedLoss, uint256(coverageLimit) - used), maxPayoutPerClaim);
        uint256 free = uint256(balance) - reserved;
        uint256 approvedTodayBefore = approvalDay == block.timestamp / DAY ? approvedInDay : 0;
        uint256 approvalsLeft = approvalLimit > approvedTodayBefore ? approvalLimit - approvedTodayBefore : 0;

        vm.prank(VALIDATOR);
        (bool ok, bytes memory ret) =
            address(guard).call(abi.encodeCall(guard.postVerification, (claimId, true, payout, EVIDENCE, 7)));

        if (payout == 0) {
            assertFalse(ok);
            assertTrue(_sameBytes(ret, abi.encodeWithSelector(ILeverageGuardTypes.ZeroAmount.selector)));
        } else if (payout > cap) {
            assertFalse(ok);
            assertTrue(_sameBytes(ret, abi.encodeWithSelector(ILeverageGuardTypes.PayoutTooLarge.selector, payout, cap)));
        } else if (payout > free) {
            assertFalse(ok);
            assertTrue(
                _sameBytes(ret, abi.encodeWithSelector(ILeverageGuardTypes.InsufficientFreeBalance.selector, payout, free))
            );
        } else if (payout > approvalsLeft) {
            assertFalse(ok);
            assertTrue(
                _sameBytes(
                    ret,
                    abi.encodeWithSelector(
                        ILeverageGuardTypes.DailyApprovalLimitExceeded.selector, payout, approvalsLeft
                    )
                )
            );
        } else {
            assertTrue(ok);
            // CLAIM-3: what succeeded is within every cap, the free balance included.
            assertLe(payout, claimedLoss);
            assertLe(payout, uint256(coverageLimit) - used);
            assertLe(payout, maxPayoutPerClaim);
            assertLe(payout, free);
            ILeverageGuardTypes.ClaimView memory claim = guard.getClaim(claimId);
            assertEq(uint8(claim.status), uint8(ILeverageGuardTypes.ClaimStatus.Approved));
            assertEq(claim.payout, payout);
            assertEq(claim.payableAt, uint256(time) + CHALLENGE_PERIOD);
            // SOLV-1, ACCT-3: the reservation and the policy move by exactly the payout; no token moves.
            assertEq(guard.reservedAmount(), uint256(reserved) + payout);
            assertEq(guard.getPolicy(TRADER).used, uint256(used) + payout);
            assertEq(guard.totalAssets(), balance);
            assertGe(guard.totalAssets(), guard.reservedAmount());
            // LIM-4
            assertEq(guard.approvedToday(), approvedTodayBefore + payout);
            assertLe(guard.approvedToday(), approvalLimit);
        }
    }

    /// @notice SOLV-1, ACCT-3, CLAIM-3: a rejection reserves nothing. With payout 0 it succeeds, the claim is
    /// Rejected with no payout, and reserved, `used`, the balance and approvedToday() are unchanged; any other
    /// payout reverts PayoutOnRejection(payout). For every state and time. No loops.
    function check_postVerification__rejection__moves_nothing(
        uint96 balance,
        uint96 reserved,
        uint96 used,
        uint32 approvalDay,
        uint96 approvedInDay,
        uint40 time,
        uint256 payout
    ) public {
        vm.assume(reserved <= balance && used < type(uint96).max);
        vm.assume(time >= START_TIME && time <= type(uint40).max - COVERAGE_TERM);
        vm.warp(time);
        _poolBalance(balance);
        _storeReserved(reserved);
        _asGovernance();
        guard.setDailyApprovalLimit(type(uint96).max);
        _storeApprovalWindow(approvalDay, approvedInDay);
        _whitelistTrader(type(uint96).max);
        _storeUsed(used);
        uint256 claimId = _file(1);
        uint256 approvedTodayBefore = guard.approvedToday();

        vm.prank(VALIDATOR);
        (bool ok, bytes memory ret) =
            address(guard).call(abi.encodeCall(guard.postVerification, (claimId, false, payout, EVIDENCE, 9)));

        if (payout != 0) {
            assertFalse(ok);
            assertTrue(_sameBytes(ret, abi.encodeWithSelector(ILeverageGuardTypes.PayoutOnRejection.selector, payout)));
        } else {
            assertTrue(ok);
            ILeverageGuardTypes.ClaimView memory claim = guard.getClaim(claimId);
            assertEq(uint8(claim.status), uint8(ILeverageGuardTypes.ClaimStatus.Rejected));
            assertEq(claim.payout, 0);
            assertEq(guard.reservedAmount(), reserved);
            assertEq(guard.getPolicy(TRADER).used, used);
            assertEq(guard.totalAssets(), balance);
            assertEq(guard.approvedToday(), approvedTodayBefore);
        }
    }

    /// @notice SOLV-1, ACCT-2, ACCT-3, LIM-2, LIM-3: paying an Approved claim of any payout, from any state
    /// with balance >= reserved, at any time, under any daily payout limit and earlier daily counter: before
    /// payableAt it reverts ChallengePeriodActive(claimId, payableAt); above what the limit leaves today it
    /// reverts DailyPayoutLimitExceeded(payout, remaining) (remaining 0, no underflow, when the limit is below
    /// paidOutToday); otherwise the trader receives exactly the payout, the balance and reserved drop by it,
    /// `used` keeps it, balance >= reserved still holds, and paidOutToday() is the day's earlier sum (0 if the
    /// stored window is of another UTC day) plus the payout, never above the limit. Batch of 1 (the single
    /// payout; its one-element loop).
    function check_executePayout__any_state__keeps_solvency_and_daily_limit(
        uint96 balance,
        uint96 reservedBefore,
        uint96 usedBefore,
        uint96 payout,
        uint96 dailyPayoutLimit,
        uint32 payoutDay,
        uint96 paidInDay,
        uint40 time
    ) public {
        uint256 claimId = _approvedClaim(balance, reservedBefore, usedBefore, payout);
        uint256 payableAt = START_TIME + CHALLENGE_PERIOD;
        assertEq(guard.getClaim(claimId).payableAt, payableAt);
        // Lower the per-claim cap first: a daily payout limit below it is refused (LIM-5).
        _setPayoutLimits(type(uint96).max, 0);
        _asGovernance();
        guard.setDailyPayoutLimit(dailyPayoutLimit);
        vm.assume(time >= START_TIME);
        vm.warp(time);
        _storeDaily(0, 0, payoutDay, paidInDay);

        uint256 reserved = uint256(reservedBefore) + payout;
        uint256 paidTodayBefore = payoutDay == block.timestamp / DAY ? paidInDay : 0;
        uint256 remaining = dailyPayoutLimit > paidTodayBefore ? dailyPayoutLimit - paidTodayBefore : 0;

        vm.prank(RECIPIENT);
        (bool ok, bytes memory ret) = address(guard).call(abi.encodeCall(guard.executePayout, (claimId)));

        if (time < payableAt) {
            assertFalse(ok);
            assertTrue(
                _sameBytes(
                    ret, abi.encodeWithSelector(ILeverageGuardTypes.ChallengePeriodActive.selector, claimId, payableAt)
                )
            );
        } else if (payout > remaining) {
            assertFalse(ok);
            assertTrue(
                _sameBytes(
                    ret, abi.encodeWithSelector(ILeverageGuardTypes.DailyPayoutLimitExceeded.selector, payout, remaining)
                )
            );
        } else {
            assertTrue(ok);
            assertEq(uint8(guard.getClaim(claimId).status), uint8(ILeverageGuardTypes.ClaimStatus.Paid));
            assertEq(token.balanceOf(TRADER), payout);
            assertEq(guard.totalAssets(), uint256(balance) - payout);
            assertEq(guard.reservedAmount(), reserved - payout);
            assertEq(guard.getPolicy(TRADER).used, uint256(usedBefore) + payout);
            assertGe(guard.totalAssets(), guard.reservedAmount());
            assertEq(guard.paidOutToday(), paidTodayBefore + payout);
            assertLe(guard.paidOutToday(), dailyPayoutLimit);
        }
    }

    /// @notice SOLV-1, ACCT-3 (CLAIM-5's window): a guardian's veto of an Approved claim of any payout, from any
    /// state with balance >= reserved, at any time: at or after payableAt it reverts
    /// ChallengePeriodOver(claimId, payableAt); before it, the claim is Rejected with no payout and reserved
    /// and `used` drop by exactly the payout, no token moves, and balance >= reserved still holds. No loops.
    function check_vetoClaim__any_time__releases_exactly_the_payout(
        uint96 balance,
        uint96 reservedBefore,
        uint96 usedBefore,
        uint96 payout,
        uint40 time
    ) public {
        uint256 claimId = _approvedClaim(balance, reservedBefore, usedBefore, payout);
        uint256 payableAt = START_TIME + CHALLENGE_PERIOD;
        vm.assume(time >= START_TIME);
        vm.warp(time);

        vm.prank(GUARDIAN);
        (bool ok, bytes memory ret) = address(guard).call(abi.encodeCall(guard.vetoClaim, (claimId, 100)));

        if (time >= payableAt) {
            assertFalse(ok);
            assertTrue(
                _sameBytes(ret, abi.encodeWithSelector(ILeverageGuardTypes.ChallengePeriodOver.selector, claimId, payableAt))
            );
        } else {
            assertTrue(ok);
            _assertReleased(claimId, balance, reservedBefore, usedBefore);
        }
    }

    /// @notice SOLV-1, ACCT-3 (CLAIM-7): governance's cancelApprovedClaim of an Approved claim of any payout,
    /// from any state with balance >= reserved, at any time (inside the window or after it) succeeds: the claim
    /// is Rejected with no payout, reserved and `used` drop by exactly the payout, no token moves, and
    /// balance >= reserved still holds. No loops.
    function check_cancelApprovedClaim__any_time__releases_exactly_the_payout(
        uint96 balance,
        uint96 reservedBefore,
        uint96 usedBefore,
        uint96 payout,
        uint40 time
    ) public {
        uint256 claimId = _approvedClaim(balance, reservedBefore, usedBefore, payout);
        vm.assume(time >= START_TIME);
        vm.warp(time);

        _asGovernance();
        (bool ok,) = address(guard).call(abi.encodeCall(guard.cancelApprovedClaim, (claimId, 200)));

        assertTrue(ok);
        _assertReleased(claimId, balance, reservedBefore, usedBefore);
    }

    function _assertReleased(uint256 claimId, uint256 balance, uint256 reservedBefore, uint256 usedBefore) private view {
        ILeverageGuardTypes.ClaimView memory claim = guard.getClaim(claimId);
        assertEq(uint8(claim.status), uint8(ILeverageGuardTypes.ClaimStatus.Rejected));
        assertEq(claim.payout, 0);
        assertEq(guard.reservedAmount(), reservedBefore);
        assertEq(guard.getPolicy(TRADER).used, usedBefore);
        assertEq(guard.totalAssets(), balance);
        assertEq(token.balanceOf(TRADER), 0);
        assertGe(guard.totalAssets(), guard.reservedAmount());
    }
}
