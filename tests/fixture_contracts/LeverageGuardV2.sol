// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {LeverageGuard} from "../../contracts/LeverageGuard.sol";

/// @title LeverageGuardV2
/// @notice Test-only upgrade target: LeverageGuard with a new version string and one new function. Never deploy.
contract LeverageGuardV2 is LeverageGuard {
    /// @param admin The LeverageGuardAdmin the fallback delegates to.
    constructor(address admin) LeverageGuard(admin) {}

    /// @notice Implementation version.
    function version() external pure override returns (string memory) {
        return "2.0.0";
    }

    /// @notice Exists only in V2, so tests can tell the upgraded implementation is live.
    function v2Marker() external pure returns (uint256) {
        return 0x5632;
    }
}
