"""The pool's ABI at the wire, without ape in the hot path.

Views: many in one ``eth_call`` through the pool's own ``multicall(bytes[])`` (OpenZeppelin's
``MulticallUpgradeable``, part of 1.1), which runs each encoded view call and returns every result. Why the
pool's multicall and not Multicall3 or a new ``getClaims`` view: it is already deployed on every 1.1 pool (no
upgrade, no other contract to trust), and one call carries hundreds of ``getClaim`` / ``getPolicy`` reads.
Events: a verdict or payout batch is read from its raw receipt (``EventCodec``). The codecs are pure (ABI in,
bytes out; bytes in, field dicts out), so they are tested without a chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from eth_abi import decoding, encoding
from eth_abi.codec import ABICodec
from eth_abi.exceptions import DecodingError
from eth_abi.registry import BaseEquals, registry
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

T = TypeVar("T")


def _strict_codec() -> ABICodec:
    """eth-abi's codec as eth-abi ships it. ape, once imported, replaces the global registry's ``uint``
    decoder with one that pads short data with zeros, so a truncated answer or revert would decode as zeros
    instead of failing: the keeper decodes with its own copy, whatever was imported before."""
    strict = registry.copy()  # type: ignore[no-untyped-call]
    strict.unregister("uint")
    strict.register(
        BaseEquals("uint"),  # type: ignore[no-untyped-call]
        encoding.UnsignedIntegerEncoder,
        decoding.UnsignedIntegerDecoder,
        label="uint",
    )
    return ABICodec(strict)


_CODEC = _strict_codec()
encode = _CODEC.encode
decode = _CODEC.decode
READ_BATCH = 200
"""View calls per ``multicall``: ~15k gas each through the proxy, so 200 stay far under the 30M-50M gas cap
nodes put on ``eth_call`` (anvil: the block gas limit; geth: ``--rpc.gascap`` 50M)."""


class ViewAbiError(ValueError):
    """The contract's ABI lacks a view the batched reads need, or it has another shape."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"view {name!r}: {detail}")
        self.name = name


@dataclass(frozen=True)
class ViewCodec:
    """Encodes calls of one view with one ABI-typed input and decodes its single struct output into a dict of
    the struct's field names."""

    name: str
    selector: bytes
    input_type: str
    output_type: str
    field_names: tuple[str, ...]

    @classmethod
    def from_abi(cls, abi: Sequence[Any], name: str) -> ViewCodec:
        """From an ethpm-types ABI list (``contract.contract_type.abi``)."""
        method = _only(abi, "function", "method", name)
        if len(method.inputs) != 1 or len(method.outputs) != 1:
            raise ViewAbiError(name, f"expected one input and one output, got {method.selector}")
        output = method.outputs[0]
        fields = tuple(str(component.name) for component in (output.components or []))
        if not fields:
            raise ViewAbiError(name, f"output {output.canonical_type} is not a struct")
        return cls(
            name=name,
            selector=keccak(text=str(method.selector))[:4],
            input_type=str(method.inputs[0].canonical_type),
            output_type=str(output.canonical_type),
            field_names=fields,
        )

    def encode_call(self, argument: Any) -> bytes:
        return self.selector + encode([self.input_type], [argument])

    def decode_result(self, data: bytes) -> dict[str, Any]:
        (values,) = decode([self.output_type], data)
        return dict(zip(self.field_names, values, strict=True))


@dataclass(frozen=True)
class WriteCodec:
    """Encodes calls of one state-changing function with one ABI-typed input (``postVerifications``,
    ``executePayouts``): the calldata ape would build, without ape's per-call model conversions."""

    name: str
    selector: bytes
    input_type: str

    @classmethod
    def from_abi(cls, abi: Sequence[Any], name: str) -> WriteCodec:
        method = _only(abi, "function", "method", name)
        if len(method.inputs) != 1:
            raise ViewAbiError(name, f"expected one input, got {method.selector}")
        return cls(
            name=name,
            selector=keccak(text=str(method.selector))[:4],
            input_type=str(method.inputs[0].canonical_type),
        )

    def encode_call(self, argument: Any) -> bytes:
        return self.selector + encode([self.input_type], [argument])


ERROR_STRING_SELECTOR = keccak(text="Error(string)")[:4]
PANIC_SELECTOR = keccak(text="Panic(uint256)")[:4]


@dataclass(frozen=True)
class ErrorCodec:
    """Names a revert from its data: the contract's custom errors (``Name(arg=value, ...)``, as ape renders a
    decoded custom error), ``Error(string)`` and ``Panic(uint256)``."""

    errors: Mapping[bytes, tuple[str, tuple[tuple[str, str], ...]]]
    """selector -> (error name, (argument name, type) ...)"""

    @classmethod
    def from_abi(cls, abi: Sequence[Any]) -> ErrorCodec:
        errors: dict[bytes, tuple[str, tuple[tuple[str, str], ...]]] = {}
        for item in abi:
            if getattr(item, "type", None) != "error":
                continue
            arguments = tuple((str(i.name), str(i.canonical_type)) for i in item.inputs)
            signature = f"{item.name}({','.join(kind for _, kind in arguments)})"
            errors[keccak(text=signature)[:4]] = (str(item.name), arguments)
        return cls(errors=errors)

    def describe(self, data: bytes) -> str | None:
        """``ErrorName(arg=value, ...)``, ``ContractLogicError: reason`` for ``Error(string)`` and ``Panic``;
        None for data it cannot decode."""
        selector, body = data[:4], data[4:]
        try:
            if selector == ERROR_STRING_SELECTOR:
                (reason,) = decode(["string"], body)
                return f"ContractLogicError: {reason}"
            if selector == PANIC_SELECTOR:
                (code,) = decode(["uint256"], body)
                return f"ContractLogicError: Panic({code:#x})"
            known = self.errors.get(selector)
            if known is None:
                return None
            name, arguments = known
            values = decode([kind for _, kind in arguments], body)
        except DecodingError:
            return None
        rendered = ", ".join(
            f"{arg}={_render(kind, value)}" for (arg, kind), value in zip(arguments, values, strict=True)
        )
        return f"{name}({rendered})"


def _render(kind: str, value: Any) -> str:
    if kind == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value)


@dataclass(frozen=True)
class EventCodec:
    """Decodes one event's logs: indexed arguments from the topics, the others from the data."""

    name: str
    topic0: str
    indexed: tuple[tuple[str, str], ...]
    """(name, type) of the indexed arguments, in order."""
    data: tuple[tuple[str, str], ...]

    @classmethod
    def from_abi(cls, abi: Sequence[Any], name: str) -> EventCodec:
        event = _only(abi, "event", "event", name)
        inputs = [(str(i.name), str(i.canonical_type), bool(i.indexed)) for i in event.inputs]
        signature = f"{name}({','.join(kind for _, kind, _ in inputs)})"
        return cls(
            name=name,
            topic0="0x" + keccak(text=signature).hex(),
            indexed=tuple((n, kind) for n, kind, is_indexed in inputs if is_indexed),
            data=tuple((n, kind) for n, kind, is_indexed in inputs if not is_indexed),
        )

    def decode(self, log: Mapping[str, Any]) -> dict[str, Any] | None:
        """The arguments of ``log`` (a JSON-RPC log object), or None when it is another event's."""
        topics = [_hex_bytes(t) for t in log.get("topics") or []]
        if not topics or "0x" + topics[0].hex() != self.topic0:
            return None
        if len(topics) != 1 + len(self.indexed):
            raise ValueError(
                f"{self.name} log has {len(topics) - 1} indexed topics, the ABI {len(self.indexed)}"
            )
        fields: dict[str, Any] = {}
        for (name, kind), topic in zip(self.indexed, topics[1:], strict=True):
            (fields[name],) = decode([kind], topic)
        values = decode([kind for _, kind in self.data], _hex_bytes(log.get("data") or "0x"))
        fields.update(zip((name for name, _ in self.data), values, strict=True))
        return fields


def _only(abi: Sequence[Any], kind: str, label: str, name: str) -> Any:
    """The one ABI item of ``kind`` ("function", "event") named ``name``."""
    items = [item for item in abi if getattr(item, "type", None) == kind and item.name == name]
    if len(items) != 1:
        raise ViewAbiError(name, f"expected one {label} of that name, found {len(items)}")
    return items[0]


def _hex_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return bytes.fromhex(str(value).removeprefix("0x"))


MULTICALL_SELECTOR = keccak(text="multicall(bytes[])")[:4]


def encode_multicall(calls: Sequence[bytes]) -> bytes:
    return MULTICALL_SELECTOR + encode(["bytes[]"], [list(calls)])


def decode_multicall(data: bytes, expected: int) -> list[bytes]:
    """The results of a ``multicall``; a count other than the calls sent is the node's or the ABI's fault."""
    (results,) = decode(["bytes[]"], data)
    if len(results) != expected:
        raise ValueError(f"multicall returned {len(results)} results for {expected} calls")
    return [bytes(result) for result in results]


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` in consecutive lists of at most ``size``."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
