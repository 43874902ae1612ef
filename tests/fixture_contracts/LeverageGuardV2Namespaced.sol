// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {LeverageGuard} from "../../contracts/LeverageGuard.sol";

/// @title LeverageGuardV2Namespaced
/// @notice Test-only upgrade target: LeverageGuard plus state in its own ERC-7201 namespace, so an upgrade can be
/// shown to leave every V1 slot alone. Never deploy outside tests.
contract LeverageGuardV2Namespaced is LeverageGuard {
    /// @param admin The LeverageGuardAdmin the fallback delegates to.
    constructor(address admin) LeverageGuard(admin) {}

    /// @custom:storage-location erc7201:leverageguard.storage.LeverageGuardV2Test
    struct V2Storage {
        uint256 marker;
        mapping(address account => uint256 note) notes;
    }

    // keccak256(abi.encode(uint256(keccak256("leverageguard.storage.LeverageGuardV2Test")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 public constant V2_STORAGE_LOCATION = 0xf03e1f7e5299f06034e01ec2472fc75121c3097681c3547c8c2bc0bfd8c2e800;

    event V2Initialized(uint256 marker);
    event NoteSet(address indexed account, uint256 note);

    function _v2Storage() private pure returns (V2Storage storage $) {
        assembly {
            $.slot := V2_STORAGE_LOCATION
        }
    }

    /// @notice Second-stage initialiser, run by `upgradeToAndCall`.
    /// @param marker_ A value stored in the V2 namespace.
    function initializeV2(uint256 marker_) external reinitializer(3) onlyGovernance {
        _v2Storage().marker = marker_;
        emit V2Initialized(marker_);
    }

    /// @notice Stores a note for the caller in the V2 namespace.
    function setNote(uint256 note) external {
        _v2Storage().notes[msg.sender] = note;
        emit NoteSet(msg.sender, note);
    }

    function marker() external view returns (uint256) {
        return _v2Storage().marker;
    }

    function noteOf(address account) external view returns (uint256) {
        return _v2Storage().notes[account];
    }

    function version() external pure override returns (string memory) {
        return "2.0.0-namespaced";
    }
}
