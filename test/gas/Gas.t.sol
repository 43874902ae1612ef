// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {GuardFixture} from "../utils/GuardFixture.sol";
import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";

/// @title GasBase
/// @notice The gas snapshot (`.gas-snapshot`, `forge snapshot --check`): each test's metered gas is one
/// call to the proxy, from a state prepared in `setUp` (so its storage is cold, as in a fresh transaction).
/// Building the call's arguments and checking its outcome run with gas metering paused, so the figure is the
/// operation alone; the checks make sure the measured call did the work (no measured revert). Inputs are
/// fixed, nothing is fuzzed, so the figures are deterministic. Each batch item belongs to its own trader, as
/// on chain (cold policy, fresh token balance).
abstract contract GasBase is GuardFixture {
    bytes32 internal constant REF = keccak256("trader account");
    /// @dev An OKX order id as the keeper files it (19 digits), and a common instrument.
    string internal constant ORDER_ID = "2931874410651107328";
    string internal constant INSTRUMENT = "BTC-USDT-SWAP";
    uint256 internal constant LOSS = 100 * USDT;
    uint256 internal constant PAYOUT = 10 * USDT;

    function _deployConfigured() internal {
        _deployPool();
        _configure();
        _fund(POOL_FUNDS);
    }

    function _trader(uint256 i) internal pure returns (address) {
        return address(uint160(0x7ade0000 + i));
    }

    /// @dev Traders 0..count-1, each with its own account hash, in one registrar batch.
    function _whitelistTraders(uint256 count) internal {
        address[] memory users = new address[](count);
        bytes32[] memory refs = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            users[i] = _trader(i);
            refs[i] = keccak256(abi.encode(REF, i));
        }
        vm.prank(registrar);
        guard.addToWhitelist(users, refs, COVERAGE_LIMIT, block.timestamp + 30 days);
    }

    /// @dev One claim per trader 0..count-1; returns their ids.
    function _fileClaims(uint256 count) internal returns (uint256[] memory ids) {
        ids = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            vm.prank(_trader(i));
            ids[i] = guard.submitClaim(OKX, ORDER_ID, INSTRUMENT, LOSS);
        }
    }

    /// @dev The claims approved for PAYOUT each and their challenge window over.
    function _approvePayable(uint256[] memory ids) internal {
        for (uint256 i = 0; i < ids.length; ++i) {
            _approve(ids[i], PAYOUT);
        }
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
    }

    function _assertStatus(uint256[] memory ids, ILeverageGuardTypes.ClaimStatus status) internal view {
        for (uint256 i = 0; i < ids.length; ++i) {
            assertEq(uint8(_status(ids[i])), uint8(status));
        }
    }
}

/// @notice Gas of `submitClaim` (a 19-digit OKX order id on BTC-USDT-SWAP) by a whitelisted trader.
contract GasSubmitClaim is GasBase {
    function setUp() public {
        _deployConfigured();
        _whitelistTraders(1);
    }

    /// @notice Gas of filing one claim (CLAIM-4's canonical-form check included).
    function test_gas_submitClaim() public {
        vm.pauseGasMetering();
        vm.prank(_trader(0));
        vm.resumeGasMetering();
        uint256 claimId = guard.submitClaim(OKX, ORDER_ID, INSTRUMENT, LOSS);
        vm.pauseGasMetering();
        assertEq(claimId, 1);
    }
}

/// @notice Gas of one verdict, `postVerification`, approving or rejecting a pending claim.
contract GasPostVerification is GasBase {
    uint256 internal claimId;

    function setUp() public {
        _deployConfigured();
        _whitelistTraders(1);
        claimId = _fileClaims(1)[0];
    }

    /// @notice Gas of an approval (reserves the payout, counts against the daily approval budget).
    function test_gas_postVerification_approve() public {
        vm.pauseGasMetering();
        uint256 id = claimId;
        vm.prank(validator);
        vm.resumeGasMetering();
        guard.postVerification(id, true, PAYOUT, EVIDENCE, 0);
        vm.pauseGasMetering();
        assertEq(uint8(_status(id)), uint8(ILeverageGuardTypes.ClaimStatus.Approved));
    }

    /// @notice Gas of a rejection.
    function test_gas_postVerification_reject() public {
        vm.pauseGasMetering();
        uint256 id = claimId;
        vm.prank(validator);
        vm.resumeGasMetering();
        guard.postVerification(id, false, 0, EVIDENCE, 1);
        vm.pauseGasMetering();
        assertEq(uint8(_status(id)), uint8(ILeverageGuardTypes.ClaimStatus.Rejected));
    }
}

/// @notice Gas of `postVerifications`: `size()` approvals in one batch, one claim per trader.
abstract contract GasPostVerificationsBase is GasBase {
    uint256[] internal ids;

    function size() internal pure virtual returns (uint256);

    function setUp() public {
        _deployConfigured();
        _whitelistTraders(size());
        ids = _fileClaims(size());
    }

    /// @notice Gas of a batch of `size()` approvals.
    function test_gas_postVerifications() public {
        vm.pauseGasMetering();
        uint256[] memory claimIds = ids;
        ILeverageGuardTypes.Verification[] memory items = new ILeverageGuardTypes.Verification[](claimIds.length);
        for (uint256 i = 0; i < claimIds.length; ++i) {
            items[i] = ILeverageGuardTypes.Verification({
                claimId: claimIds[i], approved: true, payout: PAYOUT, evidenceHash: EVIDENCE, reasonCode: 0
            });
        }
        vm.prank(validator);
        vm.resumeGasMetering();
        guard.postVerifications(items);
        vm.pauseGasMetering();
        _assertStatus(claimIds, ILeverageGuardTypes.ClaimStatus.Approved);
        assertEq(guard.reservedAmount(), claimIds.length * PAYOUT);
    }
}

contract GasPostVerifications001 is GasPostVerificationsBase {
    function size() internal pure override returns (uint256) {
        return 1;
    }
}

contract GasPostVerifications010 is GasPostVerificationsBase {
    function size() internal pure override returns (uint256) {
        return 10;
    }
}

contract GasPostVerifications050 is GasPostVerificationsBase {
    function size() internal pure override returns (uint256) {
        return 50;
    }
}

contract GasPostVerifications200 is GasPostVerificationsBase {
    function size() internal pure override returns (uint256) {
        return 200;
    }
}

/// @notice Gas of a single `executePayout` of an approved claim whose window is over.
contract GasExecutePayout is GasBase {
    uint256 internal claimId;

    function setUp() public {
        _deployConfigured();
        _whitelistTraders(1);
        uint256[] memory claimIds = _fileClaims(1);
        _approvePayable(claimIds);
        claimId = claimIds[0];
    }

    /// @notice Gas of one payout (the token transfer to a trader with no balance yet included).
    function test_gas_executePayout() public {
        vm.pauseGasMetering();
        uint256 id = claimId;
        vm.resumeGasMetering();
        guard.executePayout(id);
        vm.pauseGasMetering();
        assertEq(token.balanceOf(_trader(0)), PAYOUT);
    }
}

/// @notice Gas of `executePayouts`: `size()` payable claims in one batch, one per trader.
abstract contract GasExecutePayoutsBase is GasBase {
    uint256[] internal ids;

    function size() internal pure virtual returns (uint256);

    function setUp() public {
        _deployConfigured();
        _whitelistTraders(size());
        ids = _fileClaims(size());
        _approvePayable(ids);
    }

    /// @notice Gas of a batch of `size()` payouts.
    function test_gas_executePayouts() public {
        vm.pauseGasMetering();
        uint256[] memory claimIds = ids;
        vm.resumeGasMetering();
        guard.executePayouts(claimIds);
        vm.pauseGasMetering();
        _assertStatus(claimIds, ILeverageGuardTypes.ClaimStatus.Paid);
        assertEq(guard.paidOutToday(), claimIds.length * PAYOUT);
    }
}

contract GasExecutePayouts001 is GasExecutePayoutsBase {
    function size() internal pure override returns (uint256) {
        return 1;
    }
}

contract GasExecutePayouts010 is GasExecutePayoutsBase {
    function size() internal pure override returns (uint256) {
        return 10;
    }
}

contract GasExecutePayouts050 is GasExecutePayoutsBase {
    function size() internal pure override returns (uint256) {
        return 50;
    }
}

contract GasExecutePayouts200 is GasExecutePayoutsBase {
    function size() internal pure override returns (uint256) {
        return 200;
    }
}

/// @notice Gas of `addToWhitelist` by the registrar: one trader, and a full batch of MAX_BATCH_SIZE.
contract GasAddToWhitelist is GasBase {
    function setUp() public {
        _deployConfigured();
    }

    function _batch(uint256 count) internal view returns (address[] memory users, bytes32[] memory refs) {
        users = new address[](count);
        refs = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            users[i] = _trader(i);
            refs[i] = keccak256(abi.encode(REF, i));
        }
    }

    /// @notice Gas of whitelisting one trader.
    function test_gas_addToWhitelist_1() public {
        vm.pauseGasMetering();
        (address[] memory users, bytes32[] memory refs) = _batch(1);
        uint256 end = block.timestamp + 30 days;
        vm.prank(registrar);
        vm.resumeGasMetering();
        guard.addToWhitelist(users, refs, COVERAGE_LIMIT, end);
        vm.pauseGasMetering();
        assertTrue(guard.isWhitelisted(users[0]));
    }

    /// @notice Gas of whitelisting 200 traders in one batch.
    function test_gas_addToWhitelist_200() public {
        vm.pauseGasMetering();
        (address[] memory users, bytes32[] memory refs) = _batch(200);
        uint256 end = block.timestamp + 30 days;
        vm.prank(registrar);
        vm.resumeGasMetering();
        guard.addToWhitelist(users, refs, COVERAGE_LIMIT, end);
        vm.pauseGasMetering();
        assertTrue(guard.isWhitelisted(users[199]));
    }
}

/// @notice Gas of a sponsor's `deposit` into a funded pool.
contract GasDeposit is GasBase {
    function setUp() public {
        _deployConfigured();
        token.mint(sponsor, POOL_FUNDS);
        vm.prank(sponsor);
        token.approve(address(guard), POOL_FUNDS);
    }

    /// @notice Gas of one deposit (balance checks around the transferFrom included).
    function test_gas_deposit() public {
        vm.pauseGasMetering();
        vm.prank(sponsor);
        vm.resumeGasMetering();
        guard.deposit(POOL_FUNDS);
        vm.pauseGasMetering();
        assertEq(guard.totalAssets(), 2 * POOL_FUNDS);
    }
}

/// @notice Gas of a governance withdrawal: the `execute` of a scheduled `withdraw` proposal.
contract GasWithdrawProposal is GasBase {
    address internal treasury = makeAddr("treasury");
    uint256 internal proposalId;

    function setUp() public {
        _deployConfigured();
        proposalId = _schedule(abi.encodeCall(guard.withdraw, (treasury, 1_000 * USDT)));
    }

    /// @notice Gas of executing the scheduled withdrawal proposal (multisig checks plus the withdrawal).
    function test_gas_withdraw_viaProposal() public {
        vm.pauseGasMetering();
        uint256 id = proposalId;
        vm.prank(signers[0]);
        vm.resumeGasMetering();
        guard.execute(id);
        vm.pauseGasMetering();
        assertEq(token.balanceOf(treasury), 1_000 * USDT);
    }
}
