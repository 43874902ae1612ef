// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockStablecoin
/// @notice Test-only 6-decimal stablecoin: anyone mints, and like USDC's blacklist it refuses (reverts) any
/// transfer to or from a blocked address. Circle's own bytecode is tested in test/usdc/.
contract MockStablecoin is ERC20 {
    /// @notice The address the token refuses to move tokens to or from.
    mapping(address account => bool) public blocked;

    /// @notice The token refused a transfer touching `account`.
    error RecipientBlocked(address account);

    constructor() ERC20("Mock USD", "MUSD") {}

    /// @notice 6, as USDT and USDC.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Blocks or unblocks `account`.
    function setBlocked(address account, bool isBlocked) external {
        blocked[account] = isBlocked;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked[from]) revert RecipientBlocked(from);
        if (blocked[to]) revert RecipientBlocked(to);
        super._update(from, to, value);
    }
}
