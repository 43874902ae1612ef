// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";
import {ProofFixture} from "./ProofFixture.sol";

/// @title WithdrawProofs
/// @notice halmos proofs of `withdraw` over the proxied pool, for every pool balance, reservation, daily limit,
/// earlier daily counter, time and amount (SOLV-1, ACCT-2, LIM-1, LIM-3).
contract WithdrawProofs is ProofFixture {
    /// @notice SOLV-1, ACCT-2, LIM-1, LIM-3: from any state with balance >= reserved, at any time, a withdrawal
    /// succeeds exactly when 0 < amount <= freeBalance() and amount <= what the daily limit leaves today
    /// (0 when the limit is below what was withdrawn today: no underflow). On success the balance drops by
    /// exactly `amount`, reserved is untouched, balance >= reserved still holds, and withdrawnToday() is the
    /// day's earlier sum (0 if the stored window is of another UTC day) plus `amount`, never above the limit.
    /// Every refusal carries its exact custom error. No loops.
    function check_withdraw__any_state__keeps_solvency_and_daily_limit(
        uint96 balance,
        uint128 reserved,
        uint96 limit,
        uint32 withdrawalDay,
        uint96 withdrawnInDay,
        uint40 time,
        uint256 amount
    ) public {
        vm.assume(reserved <= balance);
        vm.assume(time >= START_TIME);
        vm.warp(time);
        _poolBalance(balance);
        _storeReserved(reserved);
        _asGovernance();
        guard.setDailyWithdrawalLimit(limit);
        _storeDaily(withdrawalDay, withdrawnInDay, 0, 0);

        uint256 today = block.timestamp / DAY;
        uint256 usedToday = withdrawalDay == today ? withdrawnInDay : 0;
        uint256 free = uint256(balance) - reserved;
        uint256 remaining = limit > usedToday ? limit - usedToday : 0;

        vm.prank(address(guard));
        (bool ok, bytes memory ret) = address(guard).call(abi.encodeCall(guard.withdraw, (RECIPIENT, amount)));

        if (amount == 0) {
            assertFalse(ok);
            assertTrue(_sameBytes(ret, abi.encodeWithSelector(ILeverageGuardTypes.ZeroAmount.selector)));
        } else if (amount > free) {
            assertFalse(ok);
            assertTrue(
                _sameBytes(ret, abi.encodeWithSelector(ILeverageGuardTypes.InsufficientFreeBalance.selector, amount, free))
            );
        } else if (amount > remaining) {
            assertFalse(ok);
            assertTrue(
                _sameBytes(ret, abi.encodeWithSelector(ILeverageGuardTypes.DailyLimitExceeded.selector, amount, remaining))
            );
        } else {
            assertTrue(ok);
            assertEq(guard.totalAssets(), uint256(balance) - amount);
            assertEq(token.balanceOf(RECIPIENT), amount);
            assertEq(guard.reservedAmount(), reserved);
            assertGe(guard.totalAssets(), guard.reservedAmount());
            assertEq(guard.withdrawnToday(), usedToday + amount);
            assertLe(guard.withdrawnToday(), limit);
        }
    }

    /// @notice LIM-1: the withdrawal window restarts exactly at the UTC day boundary. With the whole limit
    /// withdrawn on START_TIME's day, one second before the next midnight nothing more may go
    /// (DailyLimitExceeded(amount, 0)), and at midnight the full limit is available again; for every limit and
    /// amount (the day is fixed: the first check covers every time, this one names the boundary). No loops.
    function check_withdraw__at_utc_midnight__window_restarts(uint96 limit, uint96 amount) public {
        vm.assume(limit > 0 && amount > 0 && amount <= limit);
        uint256 midnight = (START_TIME / DAY + 1) * DAY;
        _poolBalance(uint256(limit) * 2);
        _asGovernance();
        guard.setDailyWithdrawalLimit(limit);
        _storeDaily(uint32(START_TIME / DAY), limit, 0, 0);

        vm.warp(midnight - 1);
        vm.prank(address(guard));
        (bool ok, bytes memory ret) = address(guard).call(abi.encodeCall(guard.withdraw, (RECIPIENT, amount)));
        assertFalse(ok);
        assertTrue(_sameBytes(ret, abi.encodeWithSelector(ILeverageGuardTypes.DailyLimitExceeded.selector, amount, 0)));

        vm.warp(midnight);
        assertEq(guard.withdrawnToday(), 0);
        vm.prank(address(guard));
        (ok,) = address(guard).call(abi.encodeCall(guard.withdraw, (RECIPIENT, amount)));
        assertTrue(ok);
        assertEq(guard.withdrawnToday(), amount);
    }
}
