"""The keeper's own ABI codec (keeper/chain_codec.py), without a chain: view calls and results, multicall
framing, and receipt logs, against eth-abi's encoding of the same values."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from ethpm_types.abi import ErrorABI, EventABI, MethodABI

from keeper.chain import _revert_of
from keeper.chain_codec import (
    ErrorCodec,
    EventCodec,
    ViewAbiError,
    ViewCodec,
    WriteCodec,
    decode_multicall,
    encode_multicall,
)

POLICY_FIELDS = [
    ("accountRef", "bytes32"),
    ("coverageLimit", "uint256"),
    ("coverageStart", "uint256"),
    ("coverageEnd", "uint256"),
    ("used", "uint256"),
    ("whitelisted", "bool"),
    ("blacklisted", "bool"),
]
GET_POLICY = MethodABI.model_validate(
    {
        "type": "function",
        "name": "getPolicy",
        "stateMutability": "view",
        "inputs": [{"name": "user", "type": "address"}],
        "outputs": [
            {
                "name": "",
                "type": "tuple",
                "components": [{"name": name, "type": kind} for name, kind in POLICY_FIELDS],
            }
        ],
    }
)
PAYOUT_FAILED = EventABI.model_validate(
    {
        "type": "event",
        "name": "PayoutFailed",
        "anonymous": False,
        "inputs": [
            {"name": "claimId", "type": "uint256", "indexed": True},
            {"name": "user", "type": "address", "indexed": True},
            {"name": "amount", "type": "uint256", "indexed": False},
        ],
    }
)
USER = "0x" + "ab" * 20


def test_view_codec__get_policy__selector_call_and_struct_fields() -> None:
    codec = ViewCodec.from_abi([GET_POLICY, PAYOUT_FAILED], "getPolicy")
    values = (b"\x01" * 32, 5_000, 10, 20, 1_250, True, False)
    result = encode(["(bytes32,uint256,uint256,uint256,uint256,bool,bool)"], [values])

    assert codec.encode_call(USER) == keccak(text="getPolicy(address)")[:4] + encode(["address"], [USER])
    assert codec.decode_result(result) == dict(zip((n for n, _ in POLICY_FIELDS), values, strict=True))


def test_view_codec__name_not_a_view__names_it() -> None:
    with pytest.raises(ViewAbiError, match="'PayoutFailed': expected one method of that name, found 0"):
        ViewCodec.from_abi([GET_POLICY, PAYOUT_FAILED], "PayoutFailed")


def test_multicall__framing__round_trip_and_count_checked() -> None:
    calls = [b"\x12\x34", b"", b"\xff" * 40]
    framed = encode_multicall(calls)
    assert framed[:4] == keccak(text="multicall(bytes[])")[:4]
    results = encode(["bytes[]"], [calls])

    assert decode_multicall(results, 3) == calls
    with pytest.raises(ValueError, match="multicall returned 3 results for 2 calls"):
        decode_multicall(results, 2)


def test_event_codec__payout_failed_log__indexed_and_data_fields() -> None:
    codec = EventCodec.from_abi([GET_POLICY, PAYOUT_FAILED], "PayoutFailed")
    log = {
        "topics": [
            "0x" + keccak(text="PayoutFailed(uint256,address,uint256)").hex(),
            "0x" + encode(["uint256"], [42]).hex(),
            "0x" + encode(["address"], [USER]).hex(),
        ],
        "data": "0x" + encode(["uint256"], [7_000_000]).hex(),
    }

    assert codec.decode(log) == {"claimId": 42, "user": USER, "amount": 7_000_000}
    assert codec.decode({**log, "topics": ["0x" + "00" * 32, *log["topics"][1:]]}) is None
    with pytest.raises(ValueError, match="PayoutFailed log has 1 indexed topics, the ABI 2"):
        codec.decode({**log, "topics": log["topics"][:2]})


INSUFFICIENT = ErrorABI.model_validate(
    {
        "type": "error",
        "name": "InsufficientFreeBalance",
        "inputs": [{"name": "needed", "type": "uint256"}, {"name": "free", "type": "uint256"}],
    }
)
NOT_SIGNER = ErrorABI.model_validate(
    {"type": "error", "name": "NotSigner", "inputs": [{"name": "account", "type": "address"}]}
)
POST_VERIFICATIONS = MethodABI.model_validate(
    {
        "type": "function",
        "name": "postVerifications",
        "stateMutability": "nonpayable",
        "inputs": [
            {
                "name": "items",
                "type": "tuple[]",
                "components": [
                    {"name": "claimId", "type": "uint256"},
                    {"name": "approved", "type": "bool"},
                    {"name": "payout", "type": "uint256"},
                    {"name": "evidenceHash", "type": "bytes32"},
                    {"name": "reasonCode", "type": "uint16"},
                ],
            }
        ],
        "outputs": [],
    }
)


def test_write_codec__post_verifications__eth_abi_calldata() -> None:
    items = [(7, True, 5, b"\x01" * 32, 0), (8, False, 0, b"\x02" * 32, 3)]

    data = WriteCodec.from_abi([POST_VERIFICATIONS], "postVerifications").encode_call(items)

    signature = "postVerifications((uint256,bool,uint256,bytes32,uint16)[])"
    assert data == keccak(text=signature)[:4] + encode(["(uint256,bool,uint256,bytes32,uint16)[]"], [items])


def test_error_codec__custom_error__named_with_its_arguments_as_ape_renders_them() -> None:
    codec = ErrorCodec.from_abi([INSUFFICIENT, NOT_SIGNER, GET_POLICY])
    data = keccak(text="InsufficientFreeBalance(uint256,uint256)")[:4] + encode(
        ["uint256", "uint256"], [9, 4]
    )
    account = "0x" + "ab" * 20

    assert codec.describe(data) == "InsufficientFreeBalance(needed=9, free=4)"
    assert codec.describe(keccak(text="NotSigner(address)")[:4] + encode(["address"], [account])) == (
        f"NotSigner(account={to_checksum_address(account)})"
    )


def test_error_codec__require_reason_panic_and_unknown_data() -> None:
    codec = ErrorCodec.from_abi([INSUFFICIENT])

    assert codec.describe(keccak(text="Error(string)")[:4] + encode(["string"], ["paused"])) == (
        "ContractLogicError: paused"
    )
    assert codec.describe(keccak(text="Panic(uint256)")[:4] + encode(["uint256"], [0x11])) == (
        "ContractLogicError: Panic(0x11)"
    )
    assert codec.describe(b"\xde\xad\xbe\xef") is None  # another contract's error
    truncated = keccak(text="InsufficientFreeBalance(uint256,uint256)")[:4] + b"\x00" * 5
    assert codec.describe(truncated) is None


def test_revert_of__json_rpc_errors__revert_or_not() -> None:
    codec = ErrorCodec.from_abi([INSUFFICIENT])
    data = keccak(text="InsufficientFreeBalance(uint256,uint256)")[:4] + encode(
        ["uint256", "uint256"], [9, 4]
    )
    custom = {"code": 3, "message": "execution reverted", "data": "0x" + data.hex()}

    assert _revert_of(custom, codec) == "InsufficientFreeBalance(needed=9, free=4)"
    assert _revert_of({**custom, "data": {"data": "0x" + data.hex()}}, codec) == (
        "InsufficientFreeBalance(needed=9, free=4)"
    )
    assert _revert_of({"code": 3, "message": "execution reverted"}, codec) == (
        "ContractLogicError: execution reverted"
    )
    assert (
        _revert_of({"code": -32000, "message": "insufficient funds for gas * price + value"}, codec) is None
    )
