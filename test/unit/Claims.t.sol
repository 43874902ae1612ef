// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";
import {GuardFixture} from "../utils/GuardFixture.sol";

/// @title ClaimsTest
/// @notice Unit tests of the claim path that the campaigns do not pin exactly: the events the keeper reads
/// (LiquidationClaimed, ClaimVerified), the validator role on both verdict functions, and a payout of exactly
/// what the daily payout limit leaves (found missing by `make mutate`: LG-15, LG-31, LG-16, LG-38).
contract ClaimsTest is GuardFixture {
    bytes32 internal constant ACCOUNT_REF = keccak256("trader-account");
    address internal intruder = makeAddr("intruder");

    function setUp() public {
        _deployPool();
        _configure();
        _fund(POOL_FUNDS);
        _whitelist(trader, ACCOUNT_REF, COVERAGE_LIMIT, 30 days);
    }

    /// @notice CLAIM-4: submitClaim emits LiquidationClaimed with every field the keeper reads.
    function test_submitClaim__in_coverage__emits_liquidation_claimed() public {
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.LiquidationClaimed(1, trader, BYBIT, ACCOUNT_REF, "order-7", "ETHUSDT", 250 * USDT);
        vm.prank(trader);
        uint256 claimId = guard.submitClaim(BYBIT, "order-7", "ETHUSDT", 250 * USDT);
        assertEq(claimId, 1);
    }

    /// @notice CLAIM-3: an approval emits ClaimVerified with the validator, payout, evidence and reason.
    function test_postVerification__approve__emits_claim_verified() public {
        uint256 claimId = _file(trader, "order-1", 500 * USDT);
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.ClaimVerified(claimId, validator, true, 400 * USDT, EVIDENCE, 0);
        _approve(claimId, 400 * USDT);
    }

    /// @notice CLAIM-1: a rejection emits ClaimVerified with payout 0 and its reason code.
    function test_postVerification__reject__emits_claim_verified() public {
        uint256 claimId = _file(trader, "order-2", 500 * USDT);
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.ClaimVerified(claimId, validator, false, 0, EVIDENCE, 3);
        vm.prank(validator);
        guard.postVerification(claimId, false, 0, EVIDENCE, 3);
    }

    /// @notice AUTH-1: only a validator posts a verdict, singly or in a batch.
    function test_postVerification__not_validator__reverts_access_control() public {
        uint256 claimId = _file(trader, "order-3", 500 * USDT);
        bytes32 role = guard.VALIDATOR_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, intruder, role));
        vm.prank(intruder);
        guard.postVerification(claimId, true, 100 * USDT, EVIDENCE, 0);

        ILeverageGuardTypes.Verification[] memory items = new ILeverageGuardTypes.Verification[](1);
        items[0] = ILeverageGuardTypes.Verification(claimId, true, 100 * USDT, EVIDENCE, 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, intruder, role));
        vm.prank(intruder);
        guard.postVerifications(items);
        assertEq(uint8(_status(claimId)), uint8(ILeverageGuardTypes.ClaimStatus.Pending));
    }

    /// @notice LIM-2: a payout of exactly what the daily payout limit leaves today is paid, singly and in a
    /// batch; one unit more is refused.
    function test_executePayout__exactly_the_rest_of_the_daily_limit__paid() public {
        _govern(abi.encodeCall(guard.setMaxPayoutPerClaim, (1_000 * USDT)));
        _govern(abi.encodeCall(guard.setDailyPayoutLimit, (1_500 * USDT)));
        uint256 first = _file(trader, "order-4", 1_000 * USDT);
        uint256 second = _file(trader, "order-5", 1_000 * USDT);
        uint256 third = _file(trader, "order-6", 1_000 * USDT);
        _approve(first, 1_000 * USDT);
        _approve(second, 500 * USDT);
        _approve(third, 1);
        vm.warp(vm.getBlockTimestamp() + CHALLENGE_PERIOD);

        guard.executePayout(first);
        uint256[] memory ids = new uint256[](1);
        ids[0] = second;
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.PayoutExecuted(second, trader, 500 * USDT);
        guard.executePayouts(ids);
        assertEq(guard.paidOutToday(), 1_500 * USDT, "the whole limit used");

        vm.expectRevert(abi.encodeWithSelector(ILeverageGuardTypes.DailyPayoutLimitExceeded.selector, 1, 0));
        guard.executePayout(third);
        assertEq(token.balanceOf(trader), 1_500 * USDT);
    }
}
