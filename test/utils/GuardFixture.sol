// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Test} from "forge-std/Test.sol";

import {ILeverageGuard} from "../../contracts/interfaces/ILeverageGuard.sol";
import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";
import {MockStablecoin} from "../mocks/MockStablecoin.sol";

/// @title GuardFixture
/// @notice What every forge test of LeverageGuard starts from: a proxied pool (the production
/// LeverageGuard + LeverageGuardAdmin behind LeverageGuardProxy) on a 6-decimal stablecoin, governed by a
/// 2-of-3 in-contract multisig, with the named actors and the configuration the Python fixtures use
/// (operator_toolkit/pool_setup.py `configure`). Governance acts only through proposals (`_govern`).
/// @dev The pool is deployed from its artifacts (`deployCode`), never imported: contracts/ is compiled via-IR
/// as in production, while the test folders are compiled without it (foundry.toml
/// `compilation_restrictions`), which takes a fraction of the time through solc-js. The bytecode under test
/// is therefore the production bytecode.
abstract contract GuardFixture is Test {
    uint256 internal constant USDT = 1e6;
    uint256 internal constant HOUR = 1 hours;
    uint256 internal constant DAY = 1 days;
    uint256 internal constant THRESHOLD = 2;
    uint256 internal constant SIGNER_COUNT = 3;

    // the configuration of operator_toolkit/pool_setup.py
    uint256 internal constant POOL_FUNDS = 100_000 * USDT;
    uint256 internal constant COVERAGE_LIMIT = 10_000 * USDT;
    uint256 internal constant CHALLENGE_PERIOD = 1 hours;
    uint256 internal constant DAILY_APPROVAL_LIMIT = 60_000 * USDT;
    uint256 internal constant MAX_COVERAGE_LIMIT = 50_000 * USDT;
    uint256 internal constant DAILY_WITHDRAWAL_LIMIT = 20_000 * USDT;
    uint256 internal constant DAILY_PAYOUT_LIMIT = 50_000 * USDT;
    uint256 internal constant MAX_PAYOUT_PER_CLAIM = 5_000 * USDT;
    /// @dev A start time well past zero and not on a UTC day boundary, so day arithmetic is exercised.
    uint256 internal constant START_TIME = 1_764_590_400 + 5 hours;

    uint8 internal constant OKX = 1;
    uint8 internal constant BINANCE = 2;
    uint8 internal constant BYBIT = 3;
    bytes32 internal constant EVIDENCE = bytes32(uint256(0xe1));

    ILeverageGuard internal guard;
    /// @dev The LeverageGuard implementation and the LeverageGuardAdmin it delegates to.
    address internal implementation;
    address internal adminImplementation;
    MockStablecoin internal token;

    address[] internal signers;
    address internal guardian = makeAddr("guardian");
    address internal validator = makeAddr("validator");
    address internal registrar = makeAddr("registrar");
    address internal sponsor = makeAddr("sponsor");
    address internal trader = makeAddr("trader");

    /// @notice Deploys a pool on a fresh MockStablecoin; the subclass calls `_configure` when it wants the
    /// standard configuration.
    function _deployPool() internal {
        _deployPool(address(new MockStablecoin()));
    }

    /// @notice Deploys a pool on `asset` (MockStablecoin, Circle's USDC, a hostile token…).
    function _deployPool(address asset) internal {
        vm.warp(START_TIME);
        if (address(token) == address(0) && asset.code.length != 0) token = MockStablecoin(asset);
        for (uint256 i = 0; i < SIGNER_COUNT; ++i) {
            signers.push(makeAddr(string.concat("signer", vm.toString(i))));
        }
        adminImplementation = deployCode("LeverageGuardAdmin.sol:LeverageGuardAdmin");
        implementation = deployCode("LeverageGuard.sol:LeverageGuard", abi.encode(adminImplementation));
        bytes memory init = abi.encodeCall(ILeverageGuard.initialize, (asset, signers, THRESHOLD));
        guard = ILeverageGuard(deployCode("LeverageGuardProxy.sol:LeverageGuardProxy", abi.encode(implementation, init)));
    }

    /// @notice Roles and limits of operator_toolkit/pool_setup.py `configure`, each through a proposal, and the pool
    /// funded by the sponsor.
    function _configure() internal {
        _govern(abi.encodeCall(guard.grantRole, (guard.GUARDIAN_ROLE(), guardian)));
        _govern(abi.encodeCall(guard.grantRole, (guard.VALIDATOR_ROLE(), validator)));
        _govern(abi.encodeCall(guard.grantRole, (guard.REGISTRAR_ROLE(), registrar)));
        _govern(abi.encodeCall(guard.setDailyWithdrawalLimit, (DAILY_WITHDRAWAL_LIMIT)));
        _govern(abi.encodeCall(guard.setDailyPayoutLimit, (DAILY_PAYOUT_LIMIT)));
        _govern(abi.encodeCall(guard.setMaxPayoutPerClaim, (MAX_PAYOUT_PER_CLAIM)));
        _govern(abi.encodeCall(guard.setDailyApprovalLimit, (DAILY_APPROVAL_LIMIT)));
        _govern(abi.encodeCall(guard.setMaxCoverageLimit, (MAX_COVERAGE_LIMIT)));
        _govern(abi.encodeCall(guard.setChallengePeriod, (CHALLENGE_PERIOD)));
    }

    /// @notice A proposal of `data` ready to execute: signer 0 proposes, signer 1 confirms (the threshold
    /// schedules it), time moves to its `readyAt` if the execution delay asks for it.
    function _schedule(bytes memory data) internal returns (uint256 proposalId) {
        vm.prank(signers[0]);
        proposalId = guard.propose(address(guard), 0, data);
        vm.prank(signers[1]);
        guard.confirm(proposalId);
        uint256 readyAt = guard.getProposal(proposalId).readyAt;
        if (block.timestamp < readyAt) vm.warp(readyAt);
    }

    /// @notice Runs `data` as governance: `_schedule`, then signer 0 executes.
    function _govern(bytes memory data) internal returns (uint256 proposalId) {
        proposalId = _schedule(data);
        vm.prank(signers[0]);
        guard.execute(proposalId);
    }

    /// @notice A proposal of `data` whose execution must revert with `err` (the multisig bubbles the call's
    /// revert data up unchanged).
    function _governReverts(bytes memory data, bytes memory err) internal {
        uint256 proposalId = _schedule(data);
        vm.expectRevert(err);
        vm.prank(signers[0]);
        guard.execute(proposalId);
    }

    /// @notice Mints `amount` to the sponsor and deposits it.
    function _fund(uint256 amount) internal {
        token.mint(sponsor, amount);
        vm.startPrank(sponsor);
        token.approve(address(guard), amount);
        guard.deposit(amount);
        vm.stopPrank();
    }

    /// @notice Whitelists `user` with `accountRef` (registrar), coverage `limit` for `term` seconds.
    function _whitelist(address user, bytes32 accountRef, uint256 limit, uint256 term) internal {
        address[] memory users = new address[](1);
        users[0] = user;
        bytes32[] memory refs = new bytes32[](1);
        refs[0] = accountRef;
        vm.prank(registrar);
        guard.addToWhitelist(users, refs, limit, block.timestamp + term);
    }

    /// @notice Files a claim as `user`.
    function _file(address user, string memory orderId, uint256 loss) internal returns (uint256 claimId) {
        vm.prank(user);
        claimId = guard.submitClaim(OKX, orderId, "BTC-USDT-SWAP", loss);
    }

    /// @notice The validator approves `claimId` for `payout`.
    function _approve(uint256 claimId, uint256 payout) internal {
        vm.prank(validator);
        guard.postVerification(claimId, true, payout, EVIDENCE, 0);
    }

    function _status(uint256 claimId) internal view returns (ILeverageGuardTypes.ClaimStatus) {
        return guard.getClaim(claimId).status;
    }
}
