// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MockStablecoin} from "../../mocks/MockStablecoin.sol";
import {PoolInvariantsBase} from "./PoolInvariants.t.sol";
import {ReenteringStablecoin} from "./ReenteringStablecoin.sol";

/// @title ReentrantPoolInvariants
/// @notice RISK-1: the same pool-side campaign (every invariant of PoolInvariantsBase, EXIT-1 included) on a
/// pool whose asset re-enters deposit / withdraw / executePayout / executePayouts / submitClaim from every
/// transfer the pool makes. No re-entry ever succeeds, each fails with ReentrancyGuardReentrantCall or the
/// governance/role error, and all the other invariants still hold.
contract ReentrantPoolInvariants is PoolInvariantsBase {
    ReenteringStablecoin internal hostile;

    function _newAsset() internal override returns (MockStablecoin) {
        hostile = new ReenteringStablecoin();
        return hostile;
    }

    function _afterDeploy() internal override {
        hostile.setPool(address(guard));
    }

    function _isReentrant() internal pure override returns (bool) {
        return true;
    }

    /// @notice RISK-1: no re-entry through the token into deposit, withdraw or payouts (or submitClaim) succeeds,
    /// and every refused re-entry fails with an expected error.
    function _extraChecks() internal view override {
        assertEq(hostile.reentrySuccesses(), 0, "RISK-1: a re-entry succeeded");
        assertEq(hostile.reentryUnexpected(), 0, string.concat("RISK-1: unexpected error ", vm.toString(hostile.lastUnexpected())));
    }

    /// @notice RISK-1: the exit (whose payouts and withdrawals each transfer) re-entered, and the guard refused.
    function _afterExit() internal view override {
        assertGt(hostile.reentryAttempts(), 0, "RISK-1: the token never re-entered");
        assertGt(hostile.reentryGuardHits(), 0, "RISK-1: the reentrancy guard never fired");
        assertEq(hostile.reentrySuccesses(), 0, "RISK-1: a re-entry succeeded during the exit");
        assertEq(hostile.reentryUnexpected(), 0, "RISK-1: unexpected re-entry error during the exit");
    }
}
