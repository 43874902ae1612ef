// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {GuardFixture} from "../utils/GuardFixture.sol";
import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";

/// @title CapsFuzzTest
/// @notice CLAIM-3, POL-1, LIM-5: the caps on an approval and on the parameters, fuzzed through the proxy
/// against a reference of LeverageGuard._verify's order of checks (cap = min(claimedLoss, remaining coverage,
/// maxPayoutPerClaim), then free balance, then the daily approval budget) and of the setters' bounds.
contract CapsFuzzTest is GuardFixture {
    uint256 internal constant RANGE = 200_000 * USDT;
    bytes32 internal constant REF = keccak256("trader account");

    /// @dev One fuzzed pool state, as the reference sees it.
    struct Case {
        uint256 coverageLimit;
        uint256 used;
        uint256 claimedLoss;
        uint256 maxPayout;
        uint256 free;
        uint256 approvalsLeft;
        uint256 payout;
    }

    function setUp() public {
        _deployPool();
        _configure();
        _govern(abi.encodeCall(guard.setMaxCoverageLimit, (RANGE)));
        _govern(abi.encodeCall(guard.setDailyPayoutLimit, (RANGE)));
        _govern(abi.encodeCall(guard.setMaxPayoutPerClaim, (RANGE)));
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    /// @dev Half of the draws sit on an edge (a bound, one past it), where an off-by-one would show.
    function _pick(uint256 seed, uint256 cap, uint256 free, uint256 left) internal pure returns (uint256) {
        uint256[7] memory edges = [cap, cap + 1, free, free + 1, left, left + 1, cap == 0 ? 1 : cap - 1];
        uint256 value = seed % 2 == 0 ? edges[(seed >> 1) % 7] : (seed >> 8) % (RANGE + 2);
        return value == 0 ? 1 : value;
    }

    /// @notice CLAIM-3, POL-1: for fuzzed coverage limit, used, claimedLoss, maxPayoutPerClaim, free balance
    /// and approval budget, an approval reverts exactly `PayoutTooLarge(payout, cap)` above
    /// cap = min(claimedLoss, max(limit - used, 0), maxPayoutPerClaim), else `InsufficientFreeBalance(payout,
    /// free)` above the free balance, else `DailyApprovalLimitExceeded(payout, left)` above the day's budget,
    /// and otherwise (up to and at the cap) succeeds and moves reserved, used, remainingCoverage and
    /// approvedToday by exactly the payout.
    function testFuzz_postVerification__caps__exact_error_in_verify_order(
        uint256 coverageLimit,
        uint256 used,
        uint256 claimedLoss,
        uint256 maxPayout,
        uint256 free,
        uint256 approvalsLeft,
        uint256 payoutSeed
    ) public {
        Case memory c;
        c.coverageLimit = bound(coverageLimit, 1, RANGE);
        c.used = bound(used, 0, c.coverageLimit);
        c.claimedLoss = bound(claimedLoss, 1, c.coverageLimit);
        c.maxPayout = bound(maxPayout, 0, RANGE);
        c.free = bound(free, 0, RANGE);
        c.approvalsLeft = bound(approvalsLeft, 0, RANGE);

        _whitelist(trader, REF, c.coverageLimit, 30 days);
        // file both claims first: the earlier approval then lowers the remaining coverage below claimedLoss
        uint256 earlier = c.used == 0 ? 0 : _file(trader, "earlier", c.used);
        uint256 claimId = _file(trader, "target", c.claimedLoss);
        if (c.used + c.free != 0) _fund(c.used + c.free);
        _govern(abi.encodeCall(guard.setDailyApprovalLimit, (c.used + c.approvalsLeft)));
        if (earlier != 0) _approve(earlier, c.used);
        _govern(abi.encodeCall(guard.setMaxPayoutPerClaim, (c.maxPayout)));

        uint256 remaining = c.coverageLimit - c.used;
        assertEq(guard.remainingCoverage(trader), remaining);
        assertEq(guard.freeBalance(), c.free);
        uint256 cap = _min(_min(c.claimedLoss, remaining), c.maxPayout);
        c.payout = _pick(payoutSeed, cap, c.free, c.approvalsLeft);

        bytes memory err;
        if (c.payout > cap) {
            err = abi.encodeWithSelector(ILeverageGuardTypes.PayoutTooLarge.selector, c.payout, cap);
        } else if (c.payout > c.free) {
            err = abi.encodeWithSelector(ILeverageGuardTypes.InsufficientFreeBalance.selector, c.payout, c.free);
        } else if (c.payout > c.approvalsLeft) {
            err = abi.encodeWithSelector(
                ILeverageGuardTypes.DailyApprovalLimitExceeded.selector, c.payout, c.approvalsLeft
            );
        }
        if (err.length != 0) {
            vm.expectRevert(err);
            _approve(claimId, c.payout);
            assertEq(uint8(_status(claimId)), uint8(ILeverageGuardTypes.ClaimStatus.Pending));
            assertEq(guard.reservedAmount(), c.used);
            return;
        }
        _approve(claimId, c.payout);
        assertEq(uint8(_status(claimId)), uint8(ILeverageGuardTypes.ClaimStatus.Approved));
        assertEq(guard.getClaim(claimId).payout, c.payout);
        assertEq(guard.reservedAmount(), c.used + c.payout);
        assertEq(guard.getPolicy(trader).used, c.used + c.payout);
        assertEq(guard.remainingCoverage(trader), remaining - c.payout);
        assertEq(guard.approvedToday(), c.used + c.payout);
        assertEq(guard.freeBalance(), c.free - c.payout);
    }

    /// @notice POL-1: `used` carries over a new term; a new coverage limit below it reverts
    /// `CoverageLimitBelowUsed(limit, used)` (in `addToWhitelist` and `extendCoverage`), otherwise
    /// remainingCoverage = limit - used, so `used <= coverageLimit` always and remainingCoverage never
    /// underflows.
    function testFuzz_policy__new_limit_below_used__reverts_and_remaining_is_limit_minus_used(
        uint256 used,
        uint256 newLimit,
        bool extend
    ) public {
        used = bound(used, 1, MAX_COVERAGE_LIMIT);
        newLimit = bound(newLimit, 1, RANGE);
        _fund(used);
        _govern(abi.encodeCall(guard.setDailyApprovalLimit, (used)));
        _whitelist(trader, REF, RANGE, 30 days);
        _approve(_file(trader, "1", used), used);
        address[] memory users = new address[](1);
        users[0] = trader;
        if (!extend) {
            vm.prank(registrar);
            guard.removeFromWhitelist(users);
            vm.warp(block.timestamp + 1);
        }
        if (newLimit < used) {
            vm.expectRevert(
                abi.encodeWithSelector(ILeverageGuardTypes.CoverageLimitBelowUsed.selector, newLimit, used)
            );
        }
        vm.prank(registrar);
        if (extend) guard.extendCoverage(users, newLimit, block.timestamp + 60 days);
        else guard.addToWhitelist(users, _refs(REF), newLimit, block.timestamp + 60 days);
        ILeverageGuardTypes.PolicyView memory policy = guard.getPolicy(trader);
        assertEq(policy.used, used);
        assertLe(policy.used, policy.coverageLimit);
        assertEq(guard.remainingCoverage(trader), policy.coverageLimit - used);
        assertEq(policy.coverageLimit, newLimit < used ? RANGE : newLimit);
    }

    /// @notice LIM-5: over a fuzzed sequence of `setDailyPayoutLimit` / `setMaxPayoutPerClaim` proposals,
    /// each setter reverts `MaxPayoutAboveDailyPayoutLimit(maxPayoutPerClaim, dailyPayoutLimit)` exactly when
    /// it would break maxPayoutPerClaim <= dailyPayoutLimit, and that order holds after every step.
    function testFuzz_setters__max_payout_stays_within_daily_payout_limit(uint256[8] memory steps) public {
        uint256 limit = guard.dailyPayoutLimit();
        uint256 maxPayout = guard.maxPayoutPerClaim();
        for (uint256 i = 0; i < steps.length; ++i) {
            uint256 value = (steps[i] >> 1) % (RANGE + 1);
            bool setsLimit = steps[i] % 2 == 0;
            bytes memory err;
            if (setsLimit && maxPayout > value) {
                err = abi.encodeWithSelector(
                    ILeverageGuardTypes.MaxPayoutAboveDailyPayoutLimit.selector, maxPayout, value
                );
            } else if (!setsLimit && value > limit) {
                err = abi.encodeWithSelector(ILeverageGuardTypes.MaxPayoutAboveDailyPayoutLimit.selector, value, limit);
            }
            bytes memory call = setsLimit
                ? abi.encodeCall(guard.setDailyPayoutLimit, (value))
                : abi.encodeCall(guard.setMaxPayoutPerClaim, (value));
            if (err.length != 0) {
                _governReverts(call, err);
            } else {
                _govern(call);
                if (setsLimit) limit = value;
                else maxPayout = value;
            }
            assertEq(guard.dailyPayoutLimit(), limit);
            assertEq(guard.maxPayoutPerClaim(), maxPayout);
            assertLe(guard.maxPayoutPerClaim(), guard.dailyPayoutLimit());
        }
    }

    /// @notice POL-1 (coverage bound): a coverage limit above maxCoverageLimit reverts
    /// `CoverageLimitAboveMax(limit, max)` in `addToWhitelist` and `extendCoverage`; up to it, it is stored.
    function testFuzz_coverage__above_max_coverage_limit__reverts(uint256 max, uint256 limit, bool extend) public {
        max = bound(max, 1, RANGE);
        limit = bound(limit, 1, 2 * RANGE);
        _govern(abi.encodeCall(guard.setMaxCoverageLimit, (max)));
        address[] memory users = new address[](1);
        users[0] = trader;
        if (extend) _whitelist(trader, REF, 1, 30 days);
        if (limit > max) {
            vm.expectRevert(abi.encodeWithSelector(ILeverageGuardTypes.CoverageLimitAboveMax.selector, limit, max));
        }
        vm.prank(registrar);
        if (extend) guard.extendCoverage(users, limit, block.timestamp + 60 days);
        else guard.addToWhitelist(users, _refs(REF), limit, block.timestamp + 60 days);
        if (limit <= max) {
            assertEq(guard.getPolicy(trader).coverageLimit, limit);
        } else {
            assertEq(guard.getPolicy(trader).coverageLimit, extend ? 1 : 0);
        }
    }

    function _refs(bytes32 ref) internal pure returns (bytes32[] memory refs) {
        refs = new bytes32[](1);
        refs[0] = ref;
    }
}
