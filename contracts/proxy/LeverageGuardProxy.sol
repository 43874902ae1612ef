// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @title LeverageGuardProxy
/// @notice The unmodified OpenZeppelin ERC1967Proxy under a project name, so deployment scripts and tests get
/// its ABI from this project's build.
contract LeverageGuardProxy is ERC1967Proxy {
    /// @param implementation The LeverageGuard implementation.
    /// @param initData Encoded `initialize(asset, signers, threshold)` call.
    constructor(address implementation, bytes memory initData) payable ERC1967Proxy(implementation, initData) {}
}
