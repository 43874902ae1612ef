// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MockStablecoin} from "../../mocks/MockStablecoin.sol";
import {ILeverageGuard} from "../../../contracts/interfaces/ILeverageGuard.sol";
import {ILeverageGuardTypes, IMultisigGovernanceTypes} from "../../../contracts/interfaces/ILeverageGuardTypes.sol";

/// @title ReenteringStablecoin
/// @notice Test-only hostile pool asset (RISK-1): a MockStablecoin (blockable, anyone mints) whose every
/// `transfer` / `transferFrom` made by the pool first tries to re-enter the pool, rotating through deposit,
/// withdraw, executePayout, executePayouts and submitClaim. The re-entry's outcome is classified: it must
/// revert with ReentrancyGuardReentrantCall, the governance/role error, or (submitClaim, which touches no
/// token) the caller's own precondition error. Any success, or any other revert, is counted.
contract ReenteringStablecoin is MockStablecoin {
    bytes4 private constant REENTRANT_CALL = bytes4(keccak256("ReentrancyGuardReentrantCall()"));

    /// @notice The pool to re-enter (set once by the test).
    address public pool;
    uint256 public reentryAttempts;
    /// @notice Re-entries that succeeded: must stay 0.
    uint256 public reentrySuccesses;
    /// @notice Re-entries that reverted with an error outside the expected set: must stay 0.
    uint256 public reentryUnexpected;
    /// @notice Re-entries refused by the reentrancy guard itself.
    uint256 public reentryGuardHits;
    bytes public lastUnexpected;
    uint256 private rotation;

    function setPool(address pool_) external {
        pool = pool_;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        _reenter();
        return super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        _reenter();
        return super.transferFrom(from, to, value);
    }

    function _reenter() private {
        if (msg.sender != pool || pool == address(0)) return;
        uint256 which = rotation++ % 5;
        bytes memory data;
        if (which == 0) {
            data = abi.encodeCall(ILeverageGuard.deposit, (1));
        } else if (which == 1) {
            data = abi.encodeCall(ILeverageGuard.withdraw, (address(this), 1));
        } else if (which == 2) {
            data = abi.encodeCall(ILeverageGuard.executePayout, (1));
        } else if (which == 3) {
            uint256[] memory ids = new uint256[](2);
            ids[0] = 1;
            ids[1] = 2;
            data = abi.encodeCall(ILeverageGuard.executePayouts, (ids));
        } else {
            data = abi.encodeCall(ILeverageGuard.submitClaim, (1, "REENTER-1", "BTC-USDT-SWAP", 1));
        }
        ++reentryAttempts;
        (bool ok, bytes memory err) = pool.call(data);
        if (ok) {
            ++reentrySuccesses;
            return;
        }
        if (err.length >= 4 && bytes4(err) == REENTRANT_CALL) {
            ++reentryGuardHits;
            return;
        }
        bytes32 h = keccak256(err);
        // withdraw checks onlyGovernance before its reentrancy guard
        if (which == 1 && h == keccak256(abi.encodeWithSelector(IMultisigGovernanceTypes.OnlyGovernance.selector, address(this)))) {
            return;
        }
        // submitClaim has no reentrancy guard (it moves no token): the token is no policyholder
        if (which == 4) {
            if (h == keccak256(abi.encodeWithSelector(ILeverageGuardTypes.NotWhitelisted.selector, address(this)))) return;
            if (h == keccak256(abi.encodeWithSelector(ILeverageGuardTypes.OperationPaused.selector, uint256(1)))) return;
        }
        ++reentryUnexpected;
        lastUnexpected = err;
    }
}
