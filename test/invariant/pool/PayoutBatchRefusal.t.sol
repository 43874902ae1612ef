// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {GuardFixture} from "../../utils/GuardFixture.sol";
import {ILeverageGuardTypes} from "../../../contracts/interfaces/ILeverageGuardTypes.sol";

/// @title PayoutBatchRefusalTest
/// @notice CLAIM-6 regression, found by the pool campaign's "no failed transfer blocks another claim" ghost:
/// 1.1.0's `executePayouts` decided every item before any transfer, so a claim whose transfer the token then
/// refused had already taken its share of the daily payout limit, and a later claim of the same batch that fit
/// the limit was skipped (SKIP_DAILY_PAYOUT_LIMIT). Payouts now go item by item, and a refused transfer hands
/// its budget back before the next item is decided. On the old code this test fails: the second claim is
/// skipped.
contract PayoutBatchRefusalTest is GuardFixture {
    address internal blockedTrader = makeAddr("blockedTrader");

    function setUp() public {
        _deployPool();
        _configure();
        _govern(abi.encodeCall(guard.setDailyPayoutLimit, (5_000 * USDT)));
        _fund(POOL_FUNDS);
        _whitelist(blockedTrader, keccak256("blocked"), COVERAGE_LIMIT, 30 days);
        _whitelist(trader, keccak256("trader"), COVERAGE_LIMIT, 30 days);
    }

    /// @notice CLAIM-6 / LIM-2: daily payout limit 5,000, two approvals of 3,000, the first recipient refused by
    /// the token: the first fails (PayoutFailed, stays Approved and reserved), the second is paid in the same
    /// batch, and the day counts only the second.
    function test_CLAIM_6__refused_transfer__holds_no_daily_budget_and_later_claim_is_paid() public {
        uint256 refusedId = _file(blockedTrader, "A-1", 3_000 * USDT);
        uint256 otherId = _file(trader, "B-1", 3_000 * USDT);
        _approve(refusedId, 3_000 * USDT);
        _approve(otherId, 3_000 * USDT);
        vm.warp(vm.getBlockTimestamp() + CHALLENGE_PERIOD);
        token.setBlocked(blockedTrader, true);

        uint256[] memory ids = new uint256[](2);
        ids[0] = refusedId;
        ids[1] = otherId;
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.PayoutFailed(refusedId, blockedTrader, 3_000 * USDT);
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.PayoutExecuted(otherId, trader, 3_000 * USDT);
        guard.executePayouts(ids);

        assertEq(uint8(_status(refusedId)), uint8(ILeverageGuardTypes.ClaimStatus.Approved), "refused stays Approved");
        assertEq(uint8(_status(otherId)), uint8(ILeverageGuardTypes.ClaimStatus.Paid), "later claim paid");
        assertEq(guard.paidOutToday(), 3_000 * USDT, "only the paid claim counts today");
        assertEq(guard.reservedAmount(), 3_000 * USDT, "the refused claim stays reserved");
        assertEq(token.balanceOf(trader), 3_000 * USDT, "trader paid by the batch");
        assertEq(token.balanceOf(blockedTrader), 0, "refused recipient unpaid");
    }

    /// @notice CLAIM-2 / CLAIM-6: a refused claim listed twice is tried once (the second listing is skipped as
    /// listed twice), and it goes back to Approved at the end of the batch.
    function test_CLAIM_6__refused_claim_listed_twice__tried_once_then_approved_again() public {
        uint256 refusedId = _file(blockedTrader, "A-2", 1_000 * USDT);
        _approve(refusedId, 1_000 * USDT);
        vm.warp(vm.getBlockTimestamp() + CHALLENGE_PERIOD);
        token.setBlocked(blockedTrader, true);

        uint256[] memory ids = new uint256[](2);
        ids[0] = refusedId;
        ids[1] = refusedId;
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.PayoutFailed(refusedId, blockedTrader, 1_000 * USDT);
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.PayoutSkipped(refusedId, guard.SKIP_WRONG_STATUS());
        guard.executePayouts(ids);

        assertEq(uint8(_status(refusedId)), uint8(ILeverageGuardTypes.ClaimStatus.Approved), "Approved again");
        assertEq(guard.reservedAmount(), 1_000 * USDT, "still reserved");
        assertEq(guard.paidOutToday(), 0, "nothing paid today");
    }
}
