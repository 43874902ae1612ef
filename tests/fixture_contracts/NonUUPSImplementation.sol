// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title NonUUPSImplementation
/// @notice Test-only upgrade target without `proxiableUUID`: the proxy must refuse it. Never deploy outside tests.
contract NonUUPSImplementation {
    function version() external pure returns (string memory) {
        return "not-uups";
    }
}

/// @title WrongUUIDImplementation
/// @notice Test-only upgrade target whose `proxiableUUID` is not the ERC-1967 implementation slot.
contract WrongUUIDImplementation {
    bytes32 public constant WRONG_SLOT = keccak256("not.the.erc1967.slot");

    function proxiableUUID() external pure returns (bytes32) {
        return WRONG_SLOT;
    }
}
