// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMultisigGovernanceTypes} from "../interfaces/ILeverageGuardTypes.sol";

/// @title SelfGoverned
/// @notice "Governance" is the contract calling itself: an executed multisig proposal, whose call has
/// `msg.sender == address(this)`. Shared by the multisig and the pool so both mean the same thing by it.
abstract contract SelfGoverned is IMultisigGovernanceTypes {
    modifier onlyGovernance() {
        _checkGovernance();
        _;
    }

    function _checkGovernance() internal view {
        if (msg.sender != address(this)) revert OnlyGovernance(msg.sender);
    }
}
