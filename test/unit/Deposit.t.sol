// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {FeeOnTransferToken} from "../../tests/fixture_contracts/FeeOnTransferToken.sol";
import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";
import {GuardFixture} from "../utils/GuardFixture.sol";

/// @title DepositTest
/// @notice RISK-3 in the forge suite: a pool whose asset takes a fee on transfer refuses every deposit with
/// the amounts it was asked for and received, and keeps nothing.
contract DepositTest is GuardFixture {
    FeeOnTransferToken internal feeToken;

    function setUp() public {
        feeToken = new FeeOnTransferToken();
        _deployPool(address(feeToken));
    }

    /// @notice RISK-3: deposit of a fee-on-transfer asset reverts UnsupportedTokenTransfer(amount, received).
    function test_deposit__fee_on_transfer_asset__reverts_unsupported_token_transfer() public {
        uint256 amount = 1_000 * USDT;
        uint256 received = amount - (amount * feeToken.FEE_BPS()) / 10_000;
        feeToken.mint(sponsor, amount);
        vm.startPrank(sponsor);
        feeToken.approve(address(guard), amount);
        vm.expectRevert(abi.encodeWithSelector(ILeverageGuardTypes.UnsupportedTokenTransfer.selector, amount, received));
        guard.deposit(amount);
        vm.stopPrank();
        assertEq(feeToken.balanceOf(address(guard)), 0, "pool keeps nothing");
        assertEq(feeToken.balanceOf(sponsor), amount, "sponsor keeps everything");
    }
}
