"""Calldata and revert data as people read them: `withdraw(to=0x…, amount=2,500 USDT)`,
`DailyLimitExceeded(requested=30,000 USDT, remaining=20,000 USDT)`.

Used both before proposing (what am I about to sign?) and when listing proposals (what did others propose?).
Nested `multicall` calldata is decoded call by call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from operator_toolkit.context import GuardContext
from operator_toolkit.labels import CLAIM_STATUSES, exchange_name, reason_name
from operator_toolkit.units import format_duration, format_flags, role_name

AMOUNT_ARGS = frozenset(
    {
        "amount",
        "limit",
        "maxPayout",
        "coverageLimit",
        "claimedLoss",
        "payout",
        "requested",
        "remaining",
        "needed",
        "free",
        "expected",
        "received",
        "maxLimit",
        "used",
        "maxPayoutPerClaim",
        "dailyPayoutLimit",
        "remainingCoverage",
        "cap",
    }
)
DURATION_ARGS = frozenset({"period", "lifetime", "delay"})
# Bounds named only `min` / `max` (InvalidChallengePeriod, CoverageLimitAboveMax, InvalidExecutionDelay,
# …) are in the unit of the value they bound: the call's or error's first argument.
BOUND_ARGS = frozenset({"min", "max"})
REASON_ARGS = frozenset({"reasonCode"})
_CUSTOM_ERROR_PREFIX = re.compile(r"custom error 0x([0-9a-fA-F]{8}):? ?")


@dataclass(frozen=True)
class DecodedCall:
    name: str
    args: dict[str, Any]
    inner: list[DecodedCall] = field(default_factory=list)


@dataclass(frozen=True)
class DecodedError:
    name: str
    args: dict[str, Any]


def _selector_table(abis: list[Any]) -> dict[bytes, Any]:
    return {keccak(text=abi.selector)[:4]: abi for abi in abis}


def _decode_args(abi: Any, payload: bytes) -> dict[str, Any]:
    types = [item.canonical_type for item in abi.inputs]
    values = abi_decode(types, payload) if types else ()
    return {
        item.name or f"arg{i}": value for i, (item, value) in enumerate(zip(abi.inputs, values, strict=True))
    }


def decode_call(ctx: GuardContext, data: bytes) -> DecodedCall:
    """Decodes calldata against the guard's ABI; unknown selectors come back as `0x12345678(...)`."""
    if len(data) < 4:
        return DecodedCall("(empty call)", {})
    abi = _selector_table(list(ctx.guard.contract_type.mutable_methods)).get(data[:4])
    if abi is None:
        return DecodedCall(f"0x{data[:4].hex()}", {"data": "0x" + data[4:].hex()})
    args = _decode_args(abi, data[4:])
    if abi.name == "multicall":
        return DecodedCall("multicall", {}, [decode_call(ctx, bytes(item)) for item in args["data"]])
    return DecodedCall(abi.name, args)


def decode_revert(ctx: GuardContext, data: bytes) -> DecodedError | None:
    """Decodes revert data into the guard's custom error (or Error(string)); None if unknown."""
    if len(data) < 4:
        return None
    if data[:4] == keccak(text="Error(string)")[:4]:
        return DecodedError("Error", {"message": abi_decode(["string"], data[4:])[0]})
    abi = _selector_table(list(ctx.guard.contract_type.errors)).get(data[:4])
    if abi is None:
        return None
    return DecodedError(abi.name, _decode_args(abi, data[4:]))


def describe_error(ctx: GuardContext, error: BaseException) -> str:
    """One line for any failed call: the decoded custom error with its arguments where possible."""
    inputs = getattr(error, "inputs", None)
    if isinstance(inputs, dict) and type(error).__name__ not in {"ContractLogicError", "CustomError"}:
        return format_decoded(ctx, DecodedError(type(error).__name__, inputs))
    text = str(error)
    raw = _revert_data_in_text(text)
    decoded = decode_revert(ctx, raw) if raw else None
    if decoded is not None:
        return format_decoded(ctx, decoded)
    return text.splitlines()[0] if text else type(error).__name__


def _revert_data_in_text(text: str) -> bytes | None:
    """ape words an undecoded custom error as `custom error 0x<selector>: <args>`, the args either as hex or
    as the raw bytes themselves; both are turned back into revert data."""
    prefix = _CUSTOM_ERROR_PREFIX.match(text)
    if prefix is None:
        return None
    selector, rest = bytes.fromhex(prefix.group(1)), text[prefix.end() :]
    if re.fullmatch(r"(0x)?([0-9a-fA-F]{2})*", rest):
        return selector + bytes.fromhex(rest.removeprefix("0x"))
    try:
        return selector + rest.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return None


def format_value(ctx: GuardContext, name: str, value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and name in AMOUNT_ARGS:
        return ctx.fmt(value)
    if isinstance(value, int) and name in DURATION_ARGS:
        return format_duration(value)
    if isinstance(value, int) and name == "status" and 0 <= value < len(CLAIM_STATUSES):
        return CLAIM_STATUSES[value]
    if isinstance(value, int) and name == "exchange":
        return exchange_name(value)
    if isinstance(value, int) and name in REASON_ARGS:
        return f"{value} ({reason_name(value)})"
    if isinstance(value, int) and name in {"flags", "flag"}:
        return format_flags(value, ctx.flags)
    if isinstance(value, str) and is_address(value):
        return str(to_checksum_address(value))
    if isinstance(value, bytes) and name == "role":
        return role_name(value, ctx.roles)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(ctx, name, item) for item in value) + "]"
    return str(value)


def format_decoded(ctx: GuardContext, item: DecodedCall | DecodedError) -> str:
    lead = next(iter(item.args), "")
    args = ", ".join(
        f"{name}={format_value(ctx, lead if name in BOUND_ARGS else name, value)}"
        for name, value in item.args.items()
    )
    return f"{item.name}({args})"


def describe_call(ctx: GuardContext, call: DecodedCall) -> list[str]:
    """One line per call: a multicall is its inner calls, in order."""
    if call.name == "multicall":
        return [line for inner in call.inner for line in describe_call(ctx, inner)]
    return [format_decoded(ctx, call)]
