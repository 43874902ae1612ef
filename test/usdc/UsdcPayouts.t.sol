// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {GuardFixture} from "../utils/GuardFixture.sol";
import {FiatToken, IFiatToken} from "../utils/FiatToken.sol";
import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";

/// @title UsdcPayoutsTest
/// @notice CLAIM-6, ACCT-3 on Circle's real USDC (FiatTokenV2_2 behind FiatTokenProxy, deployed from
/// Circle's compiled artifacts): a recipient blacklisted by Circle's blacklister fails only its own claim of a
/// batch (`PayoutFailed`, the claim stays Approved and reserved), a single payout to it reverts
/// `PayoutTransferFailed`, and it is paid once unblacklisted; deposits move exact USDC and a paused USDC
/// reverts them with USDC's own reason, moving nothing.
contract UsdcPayoutsTest is GuardFixture {
    uint256 internal constant TRADERS = 8;

    FiatToken.Usdc internal usdc;
    IFiatToken internal usd;
    address internal minter = makeAddr("usdc minter");

    function setUp() public {
        usdc = FiatToken.deploy(
            makeAddr("usdc proxy admin"), makeAddr("usdc owner"), makeAddr("usdc master minter"), makeAddr("usdc blacklister")
        );
        usd = usdc.token;
        _deployPool(address(usd));
        _configure();
        _fundUsdc(POOL_FUNDS);
        for (uint256 i = 0; i < TRADERS; ++i) {
            _whitelist(_trader(i), keccak256(abi.encode("account", i)), COVERAGE_LIMIT, 30 days);
        }
    }

    // ------------------------------------------------------------------ helpers

    function _trader(uint256 i) internal pure returns (address) {
        return address(uint160(0x7ade0000 + i));
    }

    function _amount(uint256 i) internal pure returns (uint256) {
        return (i + 1) * 100 * USDT;
    }

    /// @dev Mints real USDC to the sponsor (through Circle's minter roles) and deposits it.
    function _fundUsdc(uint256 amount) internal {
        FiatToken.mint(usdc, minter, sponsor, amount);
        vm.startPrank(sponsor);
        usd.approve(address(guard), amount);
        guard.deposit(amount);
        vm.stopPrank();
    }

    /// @dev Claims of traders 0..count-1 for _amount(i), approved, their challenge window over.
    function _payableClaims(uint256 count) internal returns (uint256[] memory ids) {
        ids = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            ids[i] = _file(_trader(i), vm.toString(i), _amount(i));
            _approve(ids[i], _amount(i));
        }
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
    }

    function _blacklist(address account) internal {
        vm.prank(usdc.blacklister);
        usd.blacklist(account);
        assertTrue(usd.isBlacklisted(account));
    }

    function _unBlacklist(address account) internal {
        vm.prank(usdc.blacklister);
        usd.unBlacklist(account);
    }

    // ------------------------------------------------------------------ tests

    /// @notice The helper deploys Circle's USDC as Circle does: linked implementation behind the proxy,
    /// admin handed over, every initializer run (version 2.2), implementation not re-initialisable.
    function test_usdc__deployed_from_artifacts__is_fiat_token_v2_2() public view {
        assertEq(usd.version(), "2");
        assertEq(usd.name(), "USDC");
        assertEq(usd.decimals(), 6);
        assertEq(usd.totalSupply(), POOL_FUNDS);
        assertEq(usd.balanceOf(address(guard)), POOL_FUNDS);
        assertGt(usdc.signatureChecker.code.length, 0);
        assertEq(guard.asset(), address(usd));
    }

    /// @notice CLAIM-6, ACCT-3: in a batch of five, the trader Circle blacklisted fails only its own claim
    /// (`PayoutFailed`, stays Approved, its payout still reserved and in its policy's `used`); the four
    /// others are paid (`PayoutExecuted`) with exact balances; once unblacklisted it is paid by a later
    /// batch.
    function test_CLAIM_6__usdc_blacklisted_recipient_in_batch__fails_only_its_claim() public {
        uint256[] memory ids = _payableClaims(5);
        address blocked = _trader(2);
        _blacklist(blocked);

        for (uint256 i = 0; i < 5; ++i) {
            vm.expectEmit(address(guard));
            if (i == 2) emit ILeverageGuardTypes.PayoutFailed(ids[i], blocked, _amount(i));
            else emit ILeverageGuardTypes.PayoutExecuted(ids[i], _trader(i), _amount(i));
        }
        guard.executePayouts(ids);

        uint256 paid = _amount(0) + _amount(1) + _amount(3) + _amount(4);
        for (uint256 i = 0; i < 5; ++i) {
            assertEq(usd.balanceOf(_trader(i)), i == 2 ? 0 : _amount(i));
            assertEq(guard.getPolicy(_trader(i)).used, _amount(i));
        }
        assertEq(uint8(_status(ids[2])), uint8(ILeverageGuardTypes.ClaimStatus.Approved));
        assertEq(guard.reservedAmount(), _amount(2));
        assertEq(guard.paidOutToday(), paid);
        assertEq(usd.balanceOf(address(guard)), POOL_FUNDS - paid);
        assertEq(guard.freeBalance(), POOL_FUNDS - paid - _amount(2));

        _unBlacklist(blocked);
        uint256[] memory retry = new uint256[](1);
        retry[0] = ids[2];
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.PayoutExecuted(ids[2], blocked, _amount(2));
        guard.executePayouts(retry);
        assertEq(usd.balanceOf(blocked), _amount(2));
        assertEq(uint8(_status(ids[2])), uint8(ILeverageGuardTypes.ClaimStatus.Paid));
        assertEq(guard.reservedAmount(), 0);
        assertEq(guard.paidOutToday(), paid + _amount(2));
    }

    /// @notice CLAIM-6: a single `executePayout` to a USDC-blacklisted trader reverts
    /// `PayoutTransferFailed(claimId)` and changes nothing; after `unBlacklist` it pays exactly once.
    function test_CLAIM_6__usdc_blacklisted_recipient__single_payout_reverts_then_pays_once_unblacklisted()
        public
    {
        uint256[] memory ids = _payableClaims(1);
        address blocked = _trader(0);
        _blacklist(blocked);

        vm.expectRevert(abi.encodeWithSelector(ILeverageGuardTypes.PayoutTransferFailed.selector, ids[0]));
        guard.executePayout(ids[0]);
        assertEq(uint8(_status(ids[0])), uint8(ILeverageGuardTypes.ClaimStatus.Approved));
        assertEq(guard.reservedAmount(), _amount(0));
        assertEq(guard.paidOutToday(), 0);
        assertEq(usd.balanceOf(address(guard)), POOL_FUNDS);

        _unBlacklist(blocked);
        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.PayoutExecuted(ids[0], blocked, _amount(0));
        guard.executePayout(ids[0]);
        assertEq(usd.balanceOf(blocked), _amount(0));
        assertEq(guard.reservedAmount(), 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILeverageGuardTypes.InvalidClaimStatus.selector, ids[0], ILeverageGuardTypes.ClaimStatus.Paid
            )
        );
        guard.executePayout(ids[0]);
    }

    /// @notice CLAIM-6, ACCT-3: for every fuzzed set of USDC-blacklisted positions in a batch of eight,
    /// exactly those claims emit `PayoutFailed` and stay Approved, the rest are paid exactly; reservedAmount
    /// is the sum of the Approved payouts, each policy's `used` its payout, paidOutToday the sum paid; after
    /// unblacklisting, re-sending the whole batch pays exactly the failed ones (the paid are skipped).
    function testFuzz_CLAIM_6__usdc_blacklisted_positions__fail_only_their_claims(uint8 blockedMask) public {
        _checkBlacklistPattern(blockedMask);
    }

    /// @notice CLAIM-6, ACCT-3: the same, exhaustively over all 256 blacklist patterns of a batch of eight
    /// (each from the same state), since 256 fuzz runs need not draw every pattern.
    function test_CLAIM_6__every_blacklist_pattern_of_eight__fails_only_those_claims() public {
        for (uint256 mask = 0; mask < 256; ++mask) {
            uint256 snapshot = vm.snapshotState();
            _checkBlacklistPattern(uint8(mask));
            vm.revertToState(snapshot);
        }
    }

    function _checkBlacklistPattern(uint8 blockedMask) internal {
        uint256[] memory ids = _payableClaims(TRADERS);
        for (uint256 i = 0; i < TRADERS; ++i) {
            if (blockedMask & (1 << i) != 0) _blacklist(_trader(i));
        }
        uint256 paid = 0;
        uint256 reserved = 0;
        for (uint256 i = 0; i < TRADERS; ++i) {
            vm.expectEmit(address(guard));
            if (blockedMask & (1 << i) != 0) {
                emit ILeverageGuardTypes.PayoutFailed(ids[i], _trader(i), _amount(i));
                reserved += _amount(i);
            } else {
                emit ILeverageGuardTypes.PayoutExecuted(ids[i], _trader(i), _amount(i));
                paid += _amount(i);
            }
        }
        guard.executePayouts(ids);

        for (uint256 i = 0; i < TRADERS; ++i) {
            bool blocked = blockedMask & (1 << i) != 0;
            assertEq(usd.balanceOf(_trader(i)), blocked ? 0 : _amount(i));
            assertEq(
                uint8(_status(ids[i])),
                uint8(blocked ? ILeverageGuardTypes.ClaimStatus.Approved : ILeverageGuardTypes.ClaimStatus.Paid)
            );
            assertEq(guard.getPolicy(_trader(i)).used, _amount(i));
        }
        assertEq(guard.reservedAmount(), reserved);
        assertEq(guard.paidOutToday(), paid);
        assertEq(usd.balanceOf(address(guard)), POOL_FUNDS - paid);

        for (uint256 i = 0; i < TRADERS; ++i) {
            if (blockedMask & (1 << i) != 0) _unBlacklist(_trader(i));
        }
        // the batch goes item by item, in list order: the paid ones are skipped, the failed ones paid now
        uint8 wrongStatus = guard.SKIP_WRONG_STATUS();
        for (uint256 i = 0; i < TRADERS; ++i) {
            vm.expectEmit(address(guard));
            if (blockedMask & (1 << i) != 0) {
                emit ILeverageGuardTypes.PayoutExecuted(ids[i], _trader(i), _amount(i));
            } else {
                emit ILeverageGuardTypes.PayoutSkipped(ids[i], wrongStatus);
            }
        }
        guard.executePayouts(ids);
        for (uint256 i = 0; i < TRADERS; ++i) {
            assertEq(usd.balanceOf(_trader(i)), _amount(i));
        }
        assertEq(guard.reservedAmount(), 0);
        assertEq(guard.paidOutToday(), paid + reserved);
        assertEq(usd.balanceOf(address(guard)), POOL_FUNDS - paid - reserved);
    }

    /// @notice A USDC deposit moves exactly the amount (`Deposited`); with USDC paused by Circle's pauser
    /// the deposit reverts with USDC's own reason and moves nothing, and works again once unpaused.
    function test_usdc__deposit__exact__and_paused_usdc_reverts_cleanly() public {
        uint256 amount = 1_234 * USDT;
        FiatToken.mint(usdc, minter, sponsor, 2 * amount);
        vm.prank(sponsor);
        usd.approve(address(guard), 2 * amount);

        vm.expectEmit(address(guard));
        emit ILeverageGuardTypes.Deposited(sponsor, amount);
        vm.prank(sponsor);
        guard.deposit(amount);
        assertEq(usd.balanceOf(address(guard)), POOL_FUNDS + amount);
        assertEq(usd.balanceOf(sponsor), amount);
        assertEq(guard.totalAssets(), POOL_FUNDS + amount);

        vm.prank(usdc.owner); // the pauser
        usd.pause();
        assertTrue(usd.paused());
        vm.expectRevert(bytes("Pausable: paused"));
        vm.prank(sponsor);
        guard.deposit(amount);
        assertEq(usd.balanceOf(address(guard)), POOL_FUNDS + amount);
        assertEq(usd.balanceOf(sponsor), amount);

        vm.prank(usdc.owner);
        usd.unpause();
        vm.prank(sponsor);
        guard.deposit(amount);
        assertEq(usd.balanceOf(address(guard)), POOL_FUNDS + 2 * amount);
        assertEq(usd.balanceOf(sponsor), 0);
    }

    /// @notice CLAIM-6: a paused USDC refuses every transfer: the batch reports each claim `PayoutFailed`
    /// and keeps it reserved, the single payout reverts `PayoutTransferFailed`; nothing moves.
    function test_CLAIM_6__paused_usdc__batch_fails_each_claim_and_single_reverts() public {
        uint256[] memory ids = _payableClaims(2);
        vm.prank(usdc.owner);
        usd.pause();
        for (uint256 i = 0; i < 2; ++i) {
            vm.expectEmit(address(guard));
            emit ILeverageGuardTypes.PayoutFailed(ids[i], _trader(i), _amount(i));
        }
        guard.executePayouts(ids);
        assertEq(guard.reservedAmount(), _amount(0) + _amount(1));
        assertEq(guard.paidOutToday(), 0);
        vm.expectRevert(abi.encodeWithSelector(ILeverageGuardTypes.PayoutTransferFailed.selector, ids[0]));
        guard.executePayout(ids[0]);
        assertEq(usd.balanceOf(address(guard)), POOL_FUNDS);
    }
}
