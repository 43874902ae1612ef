// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Test} from "forge-std/Test.sol";

import {LeverageGuard} from "../../contracts/LeverageGuard.sol";
import {LeverageGuardAdmin} from "../../contracts/LeverageGuardAdmin.sol";
import {LeverageGuardProxy} from "../../contracts/proxy/LeverageGuardProxy.sol";
import {ILeverageGuard} from "../../contracts/interfaces/ILeverageGuard.sol";
import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";
import {MockStablecoin} from "../mocks/MockStablecoin.sol";

/// @title ProofFixture
/// @notice The proxied pool (production LeverageGuard + LeverageGuardAdmin behind LeverageGuardProxy, as
/// test/utils/GuardFixture.sol deploys it) in a form halmos can execute: GuardFixture names its actors with
/// `makeAddr`/`vm.toString`, which halmos 0.3.3 does not implement, so the actors here are fixed addresses.
/// @dev Governance is `msg.sender == address(guard)` (SelfGoverned): every executed proposal is exactly such a
/// call, so `_asGovernance` pranks the proxy instead of running propose/confirm/execute. The multisig itself
/// is proven in MultisigProofs. The "background" state a property starts from (pool balance, other claims'
/// reservations, a policy's `used`, the daily counters) is written with symbolic values straight into the
/// ERC-7201 slots; each writer reads the value back through the pool's own view, so a wrong slot or offset
/// fails the proof instead of proving something about the wrong state.
abstract contract ProofFixture is Test {
    uint256 internal constant THRESHOLD = 2;
    uint256 internal constant DAY = 1 days;
    /// @dev Not on a UTC day boundary (the same start as GuardFixture).
    uint256 internal constant START_TIME = 1_764_590_400 + 5 hours;
    uint256 internal constant CHALLENGE_PERIOD = 1 hours;
    uint256 internal constant COVERAGE_TERM = 365 days;
    bytes32 internal constant EVIDENCE = bytes32(uint256(0xe1));
    bytes32 internal constant ACCOUNT_REF = bytes32(uint256(0xacc0));
    uint8 internal constant OKX = 1;

    /// @dev keccak256(abi.encode(uint256(keccak256("leverageguard.storage.LeverageGuard")) - 1)) & ~0xff
    uint256 internal constant POOL_SLOT = 0x61e2c9bfc8811b94d687f6922bc0de4c1384e9a7327cf9c6f33a1843fa9e8800;
    uint256 internal constant SLOT_RESERVED = POOL_SLOT + 2; // maxPayoutPerClaim:96 | reserved:128
    uint256 internal constant SLOT_DAILY = POOL_SLOT + 3; // withdrawalDay:32 | withdrawnInDay:96 | payoutDay:32 | paidInDay:96
    uint256 internal constant SLOT_POLICIES = POOL_SLOT + 5;
    uint256 internal constant SLOT_APPROVALS = POOL_SLOT + 8; // dailyApprovalLimit:96 | approvalDay:32 | approvedInDay:96

    address internal constant GUARDIAN = address(0x6A01);
    address internal constant VALIDATOR = address(0x7A01);
    address internal constant REGISTRAR = address(0x8E01);
    address internal constant TRADER = address(0x7E01);
    address internal constant RECIPIENT = address(0xEC01);

    ILeverageGuard internal guard;
    MockStablecoin internal token;
    address[] internal signers;

    function setUp() public virtual {
        vm.warp(START_TIME);
        signers.push(address(0x5101));
        signers.push(address(0x5102));
        signers.push(address(0x5103));
        token = new MockStablecoin();
        LeverageGuardAdmin admin = new LeverageGuardAdmin();
        LeverageGuard implementation = new LeverageGuard(address(admin));
        bytes memory init = abi.encodeCall(LeverageGuardAdmin.initialize, (address(token), signers, THRESHOLD));
        guard = ILeverageGuard(address(new LeverageGuardProxy(address(implementation), init)));

        // Read the role ids first: a view call between the prank and its call would consume the prank.
        bytes32 guardianRole = guard.GUARDIAN_ROLE();
        bytes32 validatorRole = guard.VALIDATOR_ROLE();
        bytes32 registrarRole = guard.REGISTRAR_ROLE();
        _asGovernance();
        guard.grantRole(guardianRole, GUARDIAN);
        _asGovernance();
        guard.grantRole(validatorRole, VALIDATOR);
        _asGovernance();
        guard.grantRole(registrarRole, REGISTRAR);
        _asGovernance();
        guard.setChallengePeriod(CHALLENGE_PERIOD);
        _asGovernance();
        guard.setMaxCoverageLimit(type(uint96).max);
    }

    /// @dev The next call comes from an executed proposal.
    function _asGovernance() internal {
        vm.prank(address(guard));
    }

    /// @dev Sets the payout limits; `maxPayoutPerClaim <= dailyPayoutLimit` (LIM-5) is the setters' rule.
    function _setPayoutLimits(uint256 dailyPayoutLimit, uint256 maxPayoutPerClaim) internal {
        _asGovernance();
        guard.setDailyPayoutLimit(dailyPayoutLimit);
        _asGovernance();
        guard.setMaxPayoutPerClaim(maxPayoutPerClaim);
    }

    /// @dev Puts `amount` of the asset in the pool (as a deposit would; `totalAssets()` is the balance).
    function _poolBalance(uint256 amount) internal {
        token.mint(address(guard), amount);
        assertEq(guard.totalAssets(), amount);
    }

    /// @dev Other claims' reservations: `reservedAmount()` becomes `reserved`.
    function _storeReserved(uint256 reserved) internal {
        uint256 word = uint256(vm.load(address(guard), bytes32(SLOT_RESERVED)));
        word = (word & ~(uint256(type(uint128).max) << 96)) | (reserved << 96);
        vm.store(address(guard), bytes32(SLOT_RESERVED), bytes32(word));
        assertEq(guard.reservedAmount(), reserved);
    }

    /// @dev Both daily windows as some earlier calls left them.
    function _storeDaily(uint32 withdrawalDay, uint96 withdrawnInDay, uint32 payoutDay, uint96 paidInDay) internal {
        uint256 word = uint256(withdrawalDay) | (uint256(withdrawnInDay) << 32) | (uint256(payoutDay) << 128)
            | (uint256(paidInDay) << 160);
        vm.store(address(guard), bytes32(SLOT_DAILY), bytes32(word));
        assertEq(guard.withdrawnToday(), withdrawalDay == block.timestamp / DAY ? withdrawnInDay : 0);
        assertEq(guard.paidOutToday(), payoutDay == block.timestamp / DAY ? paidInDay : 0);
    }

    /// @dev The approval window as earlier approvals left it (the limit itself is set through its setter).
    function _storeApprovalWindow(uint32 approvalDay, uint96 approvedInDay) internal {
        uint256 word = uint256(vm.load(address(guard), bytes32(SLOT_APPROVALS)));
        word = (word & uint256(type(uint96).max)) | (uint256(approvalDay) << 96) | (uint256(approvedInDay) << 128);
        vm.store(address(guard), bytes32(SLOT_APPROVALS), bytes32(word));
        assertEq(guard.approvedToday(), approvalDay == block.timestamp / DAY ? approvedInDay : 0);
    }

    /// @dev What TRADER's earlier claims have used of its policy (paid out + reserved).
    function _storeUsed(uint96 used) internal {
        bytes32 slot = bytes32(uint256(keccak256(abi.encode(TRADER, SLOT_POLICIES))) + 2);
        vm.store(address(guard), slot, bytes32(uint256(used)));
        assertEq(guard.getPolicy(TRADER).used, used);
    }

    /// @dev TRADER gets a policy with `coverageLimit`, for a year from now.
    function _whitelistTrader(uint256 coverageLimit) internal {
        address[] memory users = new address[](1);
        users[0] = TRADER;
        bytes32[] memory refs = new bytes32[](1);
        refs[0] = ACCOUNT_REF;
        vm.prank(REGISTRAR);
        guard.addToWhitelist(users, refs, coverageLimit, block.timestamp + COVERAGE_TERM);
    }

    /// @dev TRADER files a claim for `loss`.
    function _file(uint256 loss) internal returns (uint256 claimId) {
        claimId = _file("ORDER-1", loss);
    }

    /// @dev TRADER files a claim for `loss` on order `orderId`.
    function _file(string memory orderId, uint256 loss) internal returns (uint256 claimId) {
        vm.prank(TRADER);
        claimId = guard.submitClaim(OKX, orderId, "BTC-USDT-SWAP", loss);
    }

    /// @dev An Approved claim of TRADER for `payout` (through the real verdict), on top of `reservedBefore` of
    /// other claims' reservations and `usedBefore` of TRADER's policy, with `balance` in the pool and limits
    /// that let the approval through. Approved at START_TIME: payable from START_TIME + CHALLENGE_PERIOD.
    function _approvedClaim(uint256 balance, uint256 reservedBefore, uint256 usedBefore, uint256 payout)
        internal
        returns (uint256 claimId)
    {
        vm.assume(payout > 0 && usedBefore <= type(uint96).max && payout <= type(uint96).max - usedBefore);
        vm.assume(reservedBefore <= balance && payout <= balance - reservedBefore);
        _poolBalance(balance);
        _storeReserved(reservedBefore);
        _setPayoutLimits(type(uint96).max, type(uint96).max);
        _asGovernance();
        guard.setDailyApprovalLimit(type(uint96).max);
        _whitelistTrader(usedBefore + payout);
        _storeUsed(uint96(usedBefore));
        claimId = _file(payout);
        vm.prank(VALIDATOR);
        guard.postVerification(claimId, true, payout, EVIDENCE, 0);
        assertEq(guard.reservedAmount(), reservedBefore + payout);
        assertEq(guard.getPolicy(TRADER).used, usedBefore + payout);
    }

    /// @dev Whether `ret` is exactly `expected` (same length, same words), without hashing symbolic bytes.
    function _sameBytes(bytes memory ret, bytes memory expected) internal pure returns (bool same) {
        if (ret.length != expected.length) return false;
        same = true;
        for (uint256 offset = 0; offset < expected.length; offset += 32) {
            bytes32 a;
            bytes32 b;
            assembly {
                a := mload(add(add(ret, 32), offset))
                b := mload(add(add(expected, 32), offset))
            }
            // Past the end both words hold whatever follows in memory: mask to the bytes that exist.
            uint256 rest = expected.length - offset;
            if (rest < 32) {
                bytes32 mask = ~bytes32((uint256(1) << ((32 - rest) * 8)) - 1);
                a &= mask;
                b &= mask;
            }
            if (a != b) same = false;
        }
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}
