// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {GuardFixture} from "../utils/GuardFixture.sol";
import {ILeverageGuardTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";

/// @title OrderKeyFuzzTest
/// @notice CLAIM-4: the canonical form of an order key, fuzzed through the proxy's `submitClaim` against a
/// byte-by-byte reference of the SWAR check in LeverageGuard._isToken, and the key's exactness
/// (`claimIdByOrder`, `DuplicateClaim`).
contract OrderKeyFuzzTest is GuardFixture {
    bytes32 internal constant REF = keccak256("trader account");
    bytes32 internal constant OTHER_REF = keccak256("other account");
    string internal constant INSTRUMENT = "BTC-USDT-SWAP";
    /// @dev Every byte a canonical order id may hold; the first 38 are also the instrument alphabet.
    bytes internal constant UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    bytes internal constant LOWER = "abcdefghijklmnopqrstuvwxyz";

    address internal other = makeAddr("other trader");

    function setUp() public {
        _deployPool();
        _configure();
        _fund(POOL_FUNDS);
        _whitelist(trader, REF, COVERAGE_LIMIT, 30 days);
        _whitelist(other, OTHER_REF, COVERAGE_LIMIT, 30 days);
    }

    // ------------------------------------------------------------------ reference

    /// @dev The specification, one byte at a time: 1..maxLength bytes of [-0-9A-Z_] (and [a-z] if lowerCase).
    function _refIsToken(bytes memory value, uint256 maxLength, bool lowerCase) internal pure returns (bool) {
        if (value.length == 0 || value.length > maxLength) return false;
        for (uint256 i = 0; i < value.length; ++i) {
            bytes1 c = value[i];
            bool ok = c == "-" || c == "_" || (c >= "0" && c <= "9") || (c >= "A" && c <= "Z")
                || (lowerCase && c >= "a" && c <= "z");
            if (!ok) return false;
        }
        return true;
    }

    /// @dev Lengths 0..70, half of the draws on the word edges (0, 1, 31, 32, 33, 63, 64, 65) where the
    /// 32-byte SWAR loop and its tail mask can go wrong.
    function _length(uint256 seed) internal pure returns (uint256) {
        uint8[8] memory edges = [0, 1, 31, 32, 33, 63, 64, 65];
        if (seed % 2 == 0) return edges[(seed >> 1) % 8];
        return (seed >> 4) % 71;
    }

    /// @dev A string of `length` bytes drawn from the canonical alphabet (with lower case if `lowerCase`),
    /// then, if `inject`, one arbitrary byte `bad` (any of the 256 values) written at `position`.
    function _candidate(uint256 length, bytes32 chars, bool lowerCase, bool inject, uint256 position, uint8 bad)
        internal
        pure
        returns (bytes memory value)
    {
        bytes memory alphabet = lowerCase ? bytes.concat(UPPER, LOWER) : UPPER;
        value = new bytes(length);
        for (uint256 i = 0; i < length; ++i) {
            value[i] = alphabet[uint256(keccak256(abi.encode(chars, i))) % alphabet.length];
        }
        if (inject && length != 0) value[position % length] = bytes1(bad);
    }

    function _expectOrderId(bytes memory orderId) internal {
        bool valid = _refIsToken(orderId, 64, true);
        if (!valid) {
            vm.expectRevert(abi.encodeWithSelector(ILeverageGuardTypes.InvalidOrderId.selector, string(orderId)));
        }
        vm.prank(trader);
        uint256 claimId = guard.submitClaim(OKX, string(orderId), INSTRUMENT, 1);
        if (valid) {
            assertEq(claimId, 1);
            assertEq(guard.claimIdByOrder(OKX, REF, INSTRUMENT, string(orderId)), 1);
        } else {
            assertEq(guard.claimCount(), 0);
        }
    }

    function _expectInstrument(bytes memory instrument) internal {
        bool valid = _refIsToken(instrument, 32, false);
        if (!valid) {
            vm.expectRevert(
                abi.encodeWithSelector(ILeverageGuardTypes.InvalidInstrument.selector, string(instrument))
            );
        }
        vm.prank(trader);
        uint256 claimId = guard.submitClaim(OKX, "1", string(instrument), 1);
        if (valid) {
            assertEq(claimId, 1);
            assertEq(guard.claimIdByOrder(OKX, REF, string(instrument), "1"), 1);
        } else {
            assertEq(guard.claimCount(), 0);
        }
    }

    // ------------------------------------------------------------------ tests

    /// @notice CLAIM-4: an orderId is accepted iff it is 1-64 bytes of [A-Za-z0-9-_]; anything else reverts
    /// `InvalidOrderId(orderId)` (mostly-canonical strings with one arbitrary byte at any position, lengths
    /// 0-70 biased to the 32-byte word edges).
    function testFuzz_submitClaim__order_id__accepted_iff_canonical(
        uint256 lengthSeed,
        bytes32 chars,
        bool inject,
        uint256 position,
        uint8 bad
    ) public {
        _expectOrderId(_candidate(_length(lengthSeed), chars, true, inject, position, bad));
    }

    /// @notice CLAIM-4: an instrument is accepted iff it is 1-32 bytes of upper-case [A-Z0-9-_]; anything
    /// else (lower case included) reverts `InvalidInstrument(instrument)`.
    function testFuzz_submitClaim__instrument__accepted_iff_canonical(
        uint256 lengthSeed,
        bytes32 chars,
        bool lowerCase,
        bool inject,
        uint256 position,
        uint8 bad
    ) public {
        _expectInstrument(_candidate(_length(lengthSeed), chars, lowerCase, inject, position, bad));
    }

    /// @notice CLAIM-4: raw fuzzer bytes (any length, any content) as orderId and as instrument agree with
    /// the reference.
    function testFuzz_submitClaim__raw_bytes__agree_with_reference(bytes calldata raw, bool asInstrument) public {
        if (asInstrument) _expectInstrument(raw);
        else _expectOrderId(raw);
    }

    /// @notice CLAIM-4: every one of the 256 byte values, at the first, a middle and the last byte of each
    /// word of a 65-byte id, is judged like the reference (exhaustive over the byte value).
    function test_submitClaim__every_byte_value_at_word_edges__agree_with_reference() public {
        uint256[7] memory positions = [uint256(0), 15, 31, 32, 47, 63, 64];
        for (uint256 v = 0; v < 256; ++v) {
            for (uint256 p = 0; p < positions.length; ++p) {
                uint256 length = positions[p] + 1; // the byte is the last one, then the tail mask matters
                bytes memory id = _candidate(length, bytes32(v), true, true, positions[p], uint8(v));
                bool valid = _refIsToken(id, 64, true);
                vm.prank(trader);
                (bool ok, bytes memory ret) = address(guard).call(
                    abi.encodeCall(guard.submitClaim, (OKX, string(id), INSTRUMENT, 1))
                );
                assertEq(ok, valid, "verdict differs from the reference");
                if (!ok) {
                    assertEq(ret, abi.encodeWithSelector(ILeverageGuardTypes.InvalidOrderId.selector, string(id)));
                }
            }
        }
    }

    /// @notice CLAIM-4: `claimIdByOrder` is exact on spelling (one byte changed, or a byte appended, is
    /// another key), the same order under another accountRef, instrument or exchange is another claim, and
    /// the same key twice reverts `DuplicateClaim(id)`.
    function testFuzz_orderKey__exact_and_distinct__duplicate_reverts(
        uint256 lengthSeed,
        bytes32 chars,
        uint256 position,
        uint256 replacement
    ) public {
        bytes memory id = _candidate(1 + (lengthSeed % 64), chars, true, false, 0, 0);
        string memory orderId = string(id);
        uint256 claimId = _file(trader, orderId, 1);
        assertEq(guard.claimIdByOrder(OKX, REF, INSTRUMENT, orderId), claimId);

        // another spelling of the id is another key
        bytes memory alphabet = bytes.concat(UPPER, LOWER);
        bytes memory respelt = bytes.concat(id);
        uint256 index = position % id.length;
        uint256 pick = replacement % alphabet.length;
        bytes1 swap = alphabet[pick];
        if (swap == id[index]) swap = alphabet[(pick + 1) % alphabet.length];
        respelt[index] = swap;
        assertEq(guard.claimIdByOrder(OKX, REF, INSTRUMENT, string(respelt)), 0);
        assertEq(guard.claimIdByOrder(OKX, REF, INSTRUMENT, string.concat(orderId, "0")), 0);
        assertEq(guard.claimIdByOrder(OKX, REF, "BTC-USDT-SWAP ", orderId), 0);
        assertEq(guard.claimIdByOrder(OKX, REF, "btc-usdt-swap", orderId), 0);

        // the same key twice
        vm.expectRevert(abi.encodeWithSelector(ILeverageGuardTypes.DuplicateClaim.selector, claimId));
        _file(trader, orderId, 1);

        // the same order id under another instrument, exchange and accountRef: three new claims
        vm.prank(trader);
        uint256 byInstrument = guard.submitClaim(OKX, orderId, "ETH-USDT-SWAP", 1);
        vm.prank(trader);
        uint256 byExchange = guard.submitClaim(BINANCE, orderId, INSTRUMENT, 1);
        uint256 byAccount = _file(other, orderId, 1);
        assertEq(byInstrument, claimId + 1);
        assertEq(byExchange, claimId + 2);
        assertEq(byAccount, claimId + 3);
        assertEq(guard.claimIdByOrder(OKX, REF, "ETH-USDT-SWAP", orderId), byInstrument);
        assertEq(guard.claimIdByOrder(BINANCE, REF, INSTRUMENT, orderId), byExchange);
        assertEq(guard.claimIdByOrder(OKX, OTHER_REF, INSTRUMENT, orderId), byAccount);
        assertEq(guard.claimIdByOrder(OKX, REF, INSTRUMENT, orderId), claimId);

        // the respelt id is free to file, as its own claim
        uint256 respeltId = _file(trader, string(respelt), 1);
        assertEq(respeltId, claimId + 4);
    }
}
