// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";
import {ProofFixture} from "./ProofFixture.sol";

/// @title PayoutBatchChecks
/// @notice A halmos check of `executePayouts` over a batch of two (LIM-2 across a batch), NOT run by
/// tools/prove.sh (the name does not end in "Proofs"): with everything symbolic its assertion queries run past
/// the 300 s solver budget on this machine (TIMEOUT after 544 s, 69 paths), and a timeout is not a proof. Try it
/// with `tools/prove.sh --contract PayoutBatchChecks --solver-timeout-assertion 0` (no budget); docs/proofs.md.
contract PayoutBatchChecks is ProofFixture {
    /// @notice SOLV-1, ACCT-3, LIM-2, LIM-3 across a batch: `executePayouts` of two payable Approved claims of
    /// any payouts, from any state with balance >= reserved, under any daily payout limit and any amount paid
    /// out earlier today, pays each claim exactly when it fits in what the limit still leaves after the
    /// claims before it (the rest stays Approved and reserved), never reverts for the limit, and moves the
    /// trader's balance, the pool balance and reserved by exactly the sum paid; paidOutToday() ends at most
    /// the limit when anything was paid (and is untouched when nothing was). Batch of 2 (its loops run twice).
    function check_executePayouts__batch_of_two__pays_what_fits_and_stays_solvent(
        uint96 balance,
        uint96 reservedBefore,
        uint96 payout1,
        uint96 payout2,
        uint96 dailyPayoutLimit,
        uint96 paidInDay
    ) public {
        vm.assume(payout1 > 0 && payout2 > 0 && uint256(payout1) + payout2 <= type(uint96).max);
        vm.assume(reservedBefore <= balance && uint256(payout1) + payout2 <= uint256(balance) - reservedBefore);
        _poolBalance(balance);
        _storeReserved(reservedBefore);
        _setPayoutLimits(type(uint96).max, type(uint96).max);
        _asGovernance();
        guard.setDailyApprovalLimit(type(uint96).max);
        _whitelistTrader(uint256(payout1) + payout2);
        uint256[] memory ids = new uint256[](2);
        ids[0] = _file("ORDER-1", payout1);
        ids[1] = _file("ORDER-2", payout2);
        vm.prank(VALIDATOR);
        guard.postVerification(ids[0], true, payout1, EVIDENCE, 0);
        vm.prank(VALIDATOR);
        guard.postVerification(ids[1], true, payout2, EVIDENCE, 0);
        _setPayoutLimits(type(uint96).max, 0);
        _asGovernance();
        guard.setDailyPayoutLimit(dailyPayoutLimit);
        vm.warp(START_TIME + CHALLENGE_PERIOD);
        _storeDaily(0, 0, uint32(block.timestamp / DAY), paidInDay);

        uint256 left = dailyPayoutLimit > paidInDay ? dailyPayoutLimit - paidInDay : 0;
        bool pays1 = payout1 <= left;
        if (pays1) left -= payout1;
        bool pays2 = payout2 <= left;
        uint256 paid = (pays1 ? uint256(payout1) : 0) + (pays2 ? uint256(payout2) : 0);

        vm.prank(RECIPIENT);
        (bool ok,) = address(guard).call(abi.encodeCall(guard.executePayouts, (ids)));

        assertTrue(ok);
        ILeverageGuardTypes.ClaimStatus paidStatus = ILeverageGuardTypes.ClaimStatus.Paid;
        ILeverageGuardTypes.ClaimStatus approved = ILeverageGuardTypes.ClaimStatus.Approved;
        assertEq(uint8(guard.getClaim(ids[0]).status), uint8(pays1 ? paidStatus : approved));
        assertEq(uint8(guard.getClaim(ids[1]).status), uint8(pays2 ? paidStatus : approved));
        assertEq(token.balanceOf(TRADER), paid);
        assertEq(guard.totalAssets(), uint256(balance) - paid);
        assertEq(guard.reservedAmount(), uint256(reservedBefore) + payout1 + payout2 - paid);
        assertEq(guard.getPolicy(TRADER).used, uint256(payout1) + payout2);
        assertGe(guard.totalAssets(), guard.reservedAmount());
        assertEq(guard.paidOutToday(), uint256(paidInDay) + paid);
        if (paid != 0) assertLe(guard.paidOutToday(), dailyPayoutLimit);
    }
}
