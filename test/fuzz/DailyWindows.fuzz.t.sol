// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {GuardFixture} from "../utils/GuardFixture.sol";
import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";

/// @title DailyWindowsFuzzTest
/// @notice LIM-1, LIM-2, LIM-3, LIM-4: withdrawals, payouts and approvals are counted per UTC day
/// (`block.timestamp / 86400`). Each test drives a fuzzed sequence of steps (same second, the last second of
/// the day, the first second of the next, a random jump; use or a new limit) and checks every step against a
/// one-counter reference: exact success or exact `DailyLimitExceeded` / `DailyPayoutLimitExceeded` /
/// `DailyApprovalLimitExceeded(amount, remaining)`, remaining 0 (never a panic) once a limit is lowered below
/// the day's use, and `withdrawnToday` / `paidOutToday` / `approvedToday` equal to the reference.
contract DailyWindowsFuzzTest is GuardFixture {
    uint256 internal constant STEPS = 12;
    uint256 internal constant BIG = 1e12 * USDT;
    bytes32 internal constant REF = keccak256("trader account");

    address internal sink = makeAddr("sink");

    /// @dev The reference of one daily counter.
    struct Window {
        uint256 day;
        uint256 used;
        uint256 limit;
    }

    function setUp() public {
        _deployPool();
        _configure();
        _fund(BIG);
        // coverage and the per-claim cap out of the way: only the daily counter under test may refuse
        _govern(abi.encodeCall(guard.setMaxCoverageLimit, (BIG)));
        _whitelist(trader, REF, BIG, 60 days);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Moves time: 0 stays, 1 to the last second of the UTC day, 2 to the first second of the next
    /// day, 3 forward by up to two days.
    function _advance(uint256 step) internal {
        uint256 mode = step % 4;
        uint256 next = (block.timestamp / DAY + 1) * DAY;
        if (mode == 1) vm.warp(next - 1);
        else if (mode == 2) vm.warp(next);
        else if (mode == 3) vm.warp(block.timestamp + (step >> 2) % (2 * DAY));
    }

    /// @dev What the reference says is used today.
    function _usedToday(Window memory w) internal view returns (uint256) {
        return w.day == block.timestamp / DAY ? w.used : 0;
    }

    function _remaining(Window memory w) internal view returns (uint256) {
        uint256 used = _usedToday(w);
        return w.limit > used ? w.limit - used : 0;
    }

    function _count(Window memory w, uint256 amount) internal view {
        w.used = _usedToday(w) + amount;
        w.day = block.timestamp / DAY;
    }

    // ------------------------------------------------------------------ LIM-1 / LIM-3: withdrawals

    /// @notice LIM-1, LIM-3: a fuzzed sequence of withdrawals (through proposals) and limit changes across
    /// UTC day boundaries matches the reference window exactly.
    function testFuzz_withdraw__sequence_across_utc_days__matches_reference(uint256 start, uint256[STEPS] memory steps)
        public
    {
        vm.warp(block.timestamp + start % (3 * DAY));
        Window memory w = Window({day: 0, used: 0, limit: DAILY_WITHDRAWAL_LIMIT});
        uint256 sent = 0;
        for (uint256 i = 0; i < STEPS; ++i) {
            uint256 step = steps[i];
            _advance(step);
            assertEq(guard.withdrawnToday(), _usedToday(w), "withdrawnToday before the step");
            uint256 value = step >> 128;
            if ((step >> 4) % 5 == 0) {
                // a new limit, often below what is used today
                w.limit = value % (DAILY_WITHDRAWAL_LIMIT + 1);
                _govern(abi.encodeCall(guard.setDailyWithdrawalLimit, (w.limit)));
            } else {
                uint256 amount = 1 + value % (DAILY_WITHDRAWAL_LIMIT * 5 / 4);
                uint256 remaining = _remaining(w);
                bytes memory call = abi.encodeCall(guard.withdraw, (sink, amount));
                if (amount > remaining) {
                    _governReverts(
                        call,
                        abi.encodeWithSelector(ILeverageGuardTypes.DailyLimitExceeded.selector, amount, remaining)
                    );
                } else {
                    _govern(call);
                    _count(w, amount);
                    sent += amount;
                }
            }
            assertEq(guard.withdrawnToday(), _usedToday(w), "withdrawnToday after the step");
            assertEq(token.balanceOf(sink), sent);
        }
    }

    /// @notice LIM-1, LIM-3: the window restarts exactly at k*86400: the whole limit used at k*86400 - 1,
    /// a lowered limit then refuses more that second with `DailyLimitExceeded(amount, 0)`, and at k*86400 the
    /// new day allows the new limit.
    function testFuzz_withdraw__at_utc_boundary__window_restarts(uint256 dayOffset, uint256 amount, uint256 lowered)
        public
    {
        uint256 k = block.timestamp / DAY + 1 + dayOffset % 10_000;
        amount = bound(amount, 1, DAILY_WITHDRAWAL_LIMIT);
        lowered = bound(lowered, 0, DAILY_WITHDRAWAL_LIMIT - 1);
        vm.warp(k * DAY - 1);
        _govern(abi.encodeCall(guard.withdraw, (sink, DAILY_WITHDRAWAL_LIMIT)));
        assertEq(guard.withdrawnToday(), DAILY_WITHDRAWAL_LIMIT);
        _govern(abi.encodeCall(guard.setDailyWithdrawalLimit, (lowered)));
        _governReverts(
            abi.encodeCall(guard.withdraw, (sink, amount)),
            abi.encodeWithSelector(ILeverageGuardTypes.DailyLimitExceeded.selector, amount, 0)
        );
        vm.warp(k * DAY);
        assertEq(guard.withdrawnToday(), 0);
        if (amount > lowered) {
            _governReverts(
                abi.encodeCall(guard.withdraw, (sink, amount)),
                abi.encodeWithSelector(ILeverageGuardTypes.DailyLimitExceeded.selector, amount, lowered)
            );
        } else {
            _govern(abi.encodeCall(guard.withdraw, (sink, amount)));
            assertEq(guard.withdrawnToday(), amount);
        }
    }

    // ------------------------------------------------------------------ LIM-2 / LIM-3: payouts

    /// @notice LIM-2, LIM-3: STEPS claims approved up front, then paid one by one (single `executePayout`,
    /// or a batch of one) in a fuzzed sequence of times and payout-limit changes: each is paid iff it fits
    /// the reference window, else the single payout reverts `DailyPayoutLimitExceeded(amount, remaining)` and
    /// the batch skips it with SKIP_DAILY_PAYOUT_LIMIT; `paidOutToday` matches throughout.
    function testFuzz_payout__sequence_across_utc_days__matches_reference(
        uint256 start,
        uint256 limit,
        uint256[STEPS] memory steps
    ) public {
        vm.warp(block.timestamp + start % (3 * DAY));
        uint256[] memory ids = new uint256[](STEPS);
        uint256[] memory amounts = new uint256[](STEPS);
        for (uint256 i = 0; i < STEPS; ++i) {
            amounts[i] = 1 + (steps[i] >> 64) % MAX_PAYOUT_PER_CLAIM;
            ids[i] = _file(trader, vm.toString(i), amounts[i]);
            _approve(ids[i], amounts[i]);
        }
        // the per-claim cap only bounds approvals; lifting it lets the payout limit go anywhere (LIM-5)
        _govern(abi.encodeCall(guard.setMaxPayoutPerClaim, (0)));
        Window memory w = Window({day: 0, used: 0, limit: bound(limit, 0, 4 * MAX_PAYOUT_PER_CLAIM)});
        _govern(abi.encodeCall(guard.setDailyPayoutLimit, (w.limit)));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);

        uint256 paid = 0;
        uint256 next = 0;
        for (uint256 i = 0; i < STEPS; ++i) {
            uint256 step = steps[i];
            _advance(step);
            assertEq(guard.paidOutToday(), _usedToday(w), "paidOutToday before the step");
            if ((step >> 4) % 5 == 0) {
                w.limit = (step >> 128) % (4 * MAX_PAYOUT_PER_CLAIM + 1);
                _govern(abi.encodeCall(guard.setDailyPayoutLimit, (w.limit)));
            } else {
                uint256 id = ids[next];
                uint256 amount = amounts[next];
                uint256 remaining = _remaining(w);
                bool fits = amount <= remaining;
                if ((step >> 8) % 2 == 0) {
                    if (!fits) {
                        vm.expectRevert(
                            abi.encodeWithSelector(
                                ILeverageGuardTypes.DailyPayoutLimitExceeded.selector, amount, remaining
                            )
                        );
                    }
                    guard.executePayout(id);
                } else {
                    uint256[] memory batch = new uint256[](1);
                    batch[0] = id;
                    vm.expectEmit(address(guard));
                    if (fits) emit ILeverageGuardTypes.PayoutExecuted(id, trader, amount);
                    else emit ILeverageGuardTypes.PayoutSkipped(id, guard.SKIP_DAILY_PAYOUT_LIMIT());
                    guard.executePayouts(batch);
                }
                if (fits) {
                    _count(w, amount);
                    paid += amount;
                    ++next;
                    assertEq(uint8(_status(id)), uint8(ILeverageGuardTypes.ClaimStatus.Paid));
                } else {
                    assertEq(uint8(_status(id)), uint8(ILeverageGuardTypes.ClaimStatus.Approved));
                }
            }
            assertEq(guard.paidOutToday(), _usedToday(w), "paidOutToday after the step");
            assertEq(token.balanceOf(trader), paid);
        }
    }

    // ------------------------------------------------------------------ LIM-4 / LIM-3: approvals

    /// @notice LIM-4, LIM-3: a fuzzed sequence of approvals and approval-limit changes across UTC days: each
    /// approval succeeds iff it fits the reference window, else reverts `DailyApprovalLimitExceeded(payout,
    /// remaining)` (0 once the limit is lowered below the day's approvals); `approvedToday` matches.
    function testFuzz_approval__sequence_across_utc_days__matches_reference(
        uint256 start,
        uint256 limit,
        uint256[STEPS] memory steps
    ) public {
        vm.warp(block.timestamp + start % (3 * DAY));
        Window memory w = Window({day: 0, used: 0, limit: bound(limit, 0, 4 * MAX_PAYOUT_PER_CLAIM)});
        _govern(abi.encodeCall(guard.setDailyApprovalLimit, (w.limit)));
        uint256 reserved = 0;
        for (uint256 i = 0; i < STEPS; ++i) {
            uint256 step = steps[i];
            _advance(step);
            assertEq(guard.approvedToday(), _usedToday(w), "approvedToday before the step");
            if ((step >> 4) % 5 == 0) {
                w.limit = (step >> 128) % (4 * MAX_PAYOUT_PER_CLAIM + 1);
                _govern(abi.encodeCall(guard.setDailyApprovalLimit, (w.limit)));
            } else {
                uint256 amount = 1 + (step >> 128) % MAX_PAYOUT_PER_CLAIM;
                uint256 id = _file(trader, vm.toString(i), amount);
                uint256 remaining = _remaining(w);
                if (amount > remaining) {
                    vm.expectRevert(
                        abi.encodeWithSelector(
                            ILeverageGuardTypes.DailyApprovalLimitExceeded.selector, amount, remaining
                        )
                    );
                }
                _approve(id, amount);
                if (amount <= remaining) {
                    _count(w, amount);
                    reserved += amount;
                }
            }
            assertEq(guard.approvedToday(), _usedToday(w), "approvedToday after the step");
            assertEq(guard.reservedAmount(), reserved);
        }
    }

    /// @notice LIM-4: the approval window restarts exactly at k*86400: the whole budget approved at
    /// k*86400 - 1 leaves `DailyApprovalLimitExceeded(payout, 0)` that second and the full budget at k*86400.
    function testFuzz_approval__at_utc_boundary__window_restarts(uint256 payout) public {
        payout = bound(payout, 1, MAX_PAYOUT_PER_CLAIM);
        _govern(abi.encodeCall(guard.setDailyApprovalLimit, (MAX_PAYOUT_PER_CLAIM)));
        uint256 k = block.timestamp / DAY + 1;
        vm.warp(k * DAY - 1);
        _approve(_file(trader, "a", MAX_PAYOUT_PER_CLAIM), MAX_PAYOUT_PER_CLAIM);
        uint256 id = _file(trader, "b", payout);
        vm.expectRevert(
            abi.encodeWithSelector(ILeverageGuardTypes.DailyApprovalLimitExceeded.selector, payout, 0)
        );
        _approve(id, payout);
        vm.warp(k * DAY);
        assertEq(guard.approvedToday(), 0);
        _approve(id, payout);
        assertEq(guard.approvedToday(), payout);
    }
}
