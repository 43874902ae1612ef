// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice Test-only malicious 6-decimal ERC-20: once armed, its next `transfer` or `transferFrom` first calls
/// `target` with `data` (a re-entry into the pool), then moves the tokens. Never deploy outside tests.
/// @dev In swallow mode the re-entry's revert data is recorded in `lastRevertData` and the transfer goes on;
/// in bubble mode the re-entry's revert is re-thrown, failing the outer transfer.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public data;
    bool public armed;
    bool public bubble;
    /// @notice Whether the last re-entry succeeded, and what it returned or reverted with.
    bool public lastSuccess;
    bytes public lastRevertData;
    uint256 public reentryCount;

    constructor() ERC20("Reentrant USD", "RUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms a one-shot re-entry: the next transfer calls `target_` with `data_`.
    function arm(address target_, bytes calldata data_, bool bubble_) external {
        target = target_;
        data = data_;
        bubble = bubble_;
        armed = true;
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
        if (!armed) return;
        armed = false;
        ++reentryCount;
        (bool success, bytes memory result) = target.call(data);
        lastSuccess = success;
        lastRevertData = success ? bytes("") : result;
        if (!success && bubble) {
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
