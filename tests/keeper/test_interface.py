"""keeper/interface.py, the one Python copy of the chain's numbers, checked against the compiled contract.

Every upper-case constant getter of the ILeverageGuard ABI has its Python twin with the same value (read from
a deployed guard) and every Python constant has its getter, so a constant added or changed on either side
fails here; ClaimStatus follows the Solidity enum; the input rules agree with submitClaim on edge cases.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

import ape
import pytest
from ethpm_types.abi import ABIType, MethodABI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.pool import USDT

from keeper import interface
from keeper.interface import (
    MAX_INSTRUMENT_LENGTH,
    MAX_ORDER_ID_LENGTH,
    ClaimStatus,
    Exchange,
    InvalidClaimInputError,
    PauseFlag,
    ReasonCode,
    SkipReason,
    is_valid_instrument,
    is_valid_order_id,
    require_instrument,
    require_order_id,
)

TYPES_SOURCE = Path(__file__).resolve().parents[2] / "contracts" / "interfaces" / "ILeverageGuardTypes.sol"
CLAIM_STATUS_TYPE = "enum ILeverageGuardTypes.ClaimStatus"
# Upper-case getters that are no chain-wide number: the admin half's address (one per deployment) and
# OpenZeppelin's UUPS interface version string.
NOT_NUMBERS = {"ADMIN", "UPGRADE_INTERFACE_VERSION"}
# Getter prefix -> the Python enum whose members are those constants (EXCHANGE_OKX -> Exchange.OKX).
FAMILIES: dict[str, type[Enum]] = {"EXCHANGE_": Exchange, "PAUSE_": PauseFlag, "SKIP_": SkipReason}
VALID_ORDER_ID = "612345678901234567"
VALID_INSTRUMENT = "BTC-USDT-SWAP"
ACCEPTED, BAD_ORDER_ID, BAD_INSTRUMENT = "accepted", "InvalidOrderId", "InvalidInstrument"


def abi_of(project: Any) -> list[Any]:
    return list(project.ILeverageGuard.contract_type.abi)


def constant_getters(project: Any) -> dict[str, MethodABI]:
    """The ABI's upper-case views without inputs: the contract's public constants (and NOT_NUMBERS)."""
    return {
        item.name: item
        for item in abi_of(project)
        if isinstance(item, MethodABI)
        and item.name.isupper()
        and not item.inputs
        and item.stateMutability in ("view", "pure")
    }


def python_value(name: str) -> int | bytes:
    """The Python copy of the contract constant ``name``; KeyError / AttributeError if there is none."""
    for prefix, family in FAMILIES.items():
        if name.startswith(prefix):
            return int(family[name.removeprefix(prefix)].value)
    value = getattr(interface, name)
    assert isinstance(value, int | bytes), f"keeper.interface.{name} is {value!r}, not a number"
    return value


def python_constants() -> set[str]:
    """keeper.interface's module-level numbers, and each family member under its contract name."""
    plain = {
        name
        for name, value in vars(interface).items()
        if name.isupper() and not name.startswith("_") and isinstance(value, int | bytes)
    }
    members = {f"{prefix}{member.name}" for prefix, family in FAMILIES.items() for member in family}
    return plain | members


def solidity_claim_statuses() -> list[str]:
    match = re.search(r"enum\s+ClaimStatus\s*\{([^}]*)\}", TYPES_SOURCE.read_text())
    assert match is not None, f"no `enum ClaimStatus` in {TYPES_SOURCE}"
    return [name.strip() for name in match.group(1).split(",") if name.strip()]


def component(types: list[ABIType], name: str) -> ABIType:
    return next(item for item in types if item.name == name)


def test_constants__every_contract_constant__has_the_python_value(project: Any, guard: Any) -> None:
    getters = constant_getters(project)
    assert getters.keys() - NOT_NUMBERS, "the ABI has no constant getters"
    for name in sorted(getters.keys() - NOT_NUMBERS):
        on_chain = getattr(guard, name)()
        expected = python_value(name)
        got = bytes(on_chain) if isinstance(expected, bytes) else int(on_chain)
        assert got == expected, f"{name}: contract {got!r}, keeper.interface {expected!r}"


def test_constants__every_python_constant__is_a_contract_constant(project: Any) -> None:
    assert python_constants() - constant_getters(project).keys() == set()


def test_constants__not_numbers__are_still_in_the_abi(project: Any) -> None:
    # If one of them leaves the ABI the exclusion list is stale.
    assert constant_getters(project).keys() >= NOT_NUMBERS


def test_claim_status__names_and_order__equal_the_solidity_enum() -> None:
    names = solidity_claim_statuses()
    assert [status.label for status in ClaimStatus] == names
    assert [status.name for status in ClaimStatus] == [name.upper() for name in names]
    assert [int(status) for status in ClaimStatus] == list(range(len(names)))


def test_claim_status__abi__uses_the_enum(project: Any) -> None:
    items = abi_of(project)
    get_claim = next(i for i in items if isinstance(i, MethodABI) and i.name == "getClaim")
    status = component(get_claim.outputs[0].components or [], "status")
    assert (status.type, status.internal_type) == ("uint8", CLAIM_STATUS_TYPE)
    invalid_status = next(i for i in items if i.type == "error" and i.name == "InvalidClaimStatus")
    assert component(invalid_status.inputs, "status").internal_type == CLAIM_STATUS_TYPE


def test_claim_status__on_chain__decodes_to_the_python_member(insured: Any, trader: Any) -> None:
    receipt = insured.submitClaim(Exchange.OKX, VALID_ORDER_ID, VALID_INSTRUMENT, USDT, sender=trader)
    assert ClaimStatus(int(insured.getClaim(receipt.return_value).status)) is ClaimStatus.PENDING
    assert ClaimStatus(int(insured.getClaim(receipt.return_value + 1).status)) is ClaimStatus.NONE


@pytest.mark.parametrize(
    ("event", "field", "family", "abi_type"),
    [
        ("VerificationSkipped", "reason", SkipReason, "uint8"),
        ("VetoSkipped", "reason", SkipReason, "uint8"),
        ("PayoutSkipped", "reason", SkipReason, "uint8"),
        ("ClaimVerified", "reasonCode", ReasonCode, "uint16"),
        ("ClaimVetoed", "reasonCode", ReasonCode, "uint16"),
        ("ClaimCancelled", "reasonCode", ReasonCode, "uint16"),
        ("LiquidationClaimed", "exchange", Exchange, "uint8"),
    ],
)
def test_codes__event_fields__hold_every_member(
    project: Any, event: str, field: str, family: type[Enum], abi_type: str
) -> None:
    abi = next(i for i in abi_of(project) if i.type == "event" and i.name == event)
    assert component(abi.inputs, field).type == abi_type
    bits = int(abi_type.removeprefix("uint"))
    assert all(0 <= int(member.value) < 2**bits for member in family)


def test_pause_flag__all__is_every_bit() -> None:
    single = [flag for flag in PauseFlag if flag is not PauseFlag.ALL]
    assert [int(flag) for flag in single] == [1 << i for i in range(len(single))]
    assert sum(single) == PauseFlag.ALL


def test_exchange__slug__round_trips() -> None:
    assert [e.slug for e in Exchange] == ["okx", "binance", "bybit"]
    assert all(Exchange.from_slug(e.slug.upper()) is e for e in Exchange)
    with pytest.raises(ValueError, match="unknown exchange 'kraken'"):
        Exchange.from_slug("kraken")


# --- submitClaim's input rules -------------------------------------------------------------------------


def chain_verdict(guard: Any, trader: Any, order_id: str, instrument: str) -> str:
    """What submitClaim says to (order_id, instrument): accepted or the input error.

    A transaction, not an eth_call: ape leaves custom errors of a reverted call undecoded. An accepted
    input that was filed already (hypothesis repeats examples) reverts DuplicateClaim, which the contract
    checks after both input rules, so it counts as accepted.
    """
    try:
        guard.submitClaim(Exchange.OKX, order_id, instrument, USDT, sender=trader)
    except ape.exceptions.ContractLogicError as err:
        if isinstance(err, guard.InvalidOrderId):
            assert err.inputs == {"orderId": order_id}
            return BAD_ORDER_ID
        if isinstance(err, guard.InvalidInstrument):
            assert err.inputs == {"instrument": instrument}
            return BAD_INSTRUMENT
        if isinstance(err, guard.DuplicateClaim):
            return ACCEPTED
        raise
    return ACCEPTED


def python_verdict(order_id: str, instrument: str) -> str:
    """The same, from keeper.interface (the contract checks the order id first)."""
    if not is_valid_order_id(order_id):
        return BAD_ORDER_ID
    if not is_valid_instrument(instrument):
        return BAD_INSTRUMENT
    return ACCEPTED


ORDER_IDS = [
    "1",
    "a",
    "Z",
    "-",
    "_",
    "abc-DEF_123",
    "0" * MAX_ORDER_ID_LENGTH,
    "0" * (MAX_ORDER_ID_LENGTH + 1),
    "",
    "abc.def",
    "abc def",
    "abc/def",
    "abc\n",
    "\nabc",
    "abc\x00",
    "+123",
    "0x1F",
    "ordér",
    "é" * (MAX_ORDER_ID_LENGTH // 2),  # 32 characters, 64 bytes, not ASCII
    "\u0661\u0662\u0663",  # Arabic-Indic digits: \d would accept them
    "\uff21\uff22\uff23",  # full-width letters
]
INSTRUMENTS = [
    "BTC-USDT-SWAP",
    "BTCUSDT",
    "B",
    "1000PEPEUSDT",
    "_-_",
    "A" * MAX_INSTRUMENT_LENGTH,
    "A" * (MAX_INSTRUMENT_LENGTH + 1),
    "",
    "btc-usdt-swap",
    "BTC-usdt",
    "BTCUSDt",
    "BTC USDT",
    "BTC/USDT",
    "BTC.USDT",
    "BTCUSDT\n",
    "ÉTH",
    "\u0661\u0662\u0663",
]


@pytest.mark.parametrize("order_id", ORDER_IDS)
def test_order_id_rule__edge_case__agrees_with_submit_claim(insured: Any, trader: Any, order_id: str) -> None:
    assert python_verdict(order_id, VALID_INSTRUMENT) == chain_verdict(
        insured, trader, order_id, VALID_INSTRUMENT
    )


@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_instrument_rule__edge_case__agrees_with_submit_claim(
    insured: Any, trader: Any, instrument: str
) -> None:
    assert python_verdict(VALID_ORDER_ID, instrument) == chain_verdict(
        insured, trader, VALID_ORDER_ID, instrument
    )


def test_input_rules__table__covers_both_outcomes() -> None:
    assert {is_valid_order_id(o) for o in ORDER_IDS} == {True, False}
    assert {is_valid_instrument(i) for i in INSTRUMENTS} == {True, False}


ALPHABET = "AZaz09-_. /\n\x00\u00e9\u0661"
TOKENS = st.one_of(
    st.text(alphabet=ALPHABET, max_size=8),
    st.text(alphabet="Aa0-_", min_size=MAX_INSTRUMENT_LENGTH - 2, max_size=MAX_ORDER_ID_LENGTH + 2),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(order_id=TOKENS, instrument=TOKENS)
def test_input_rules__random_strings__agree_with_submit_claim(
    insured: Any, trader: Any, order_id: str, instrument: str
) -> None:
    assert python_verdict(order_id, instrument) == chain_verdict(insured, trader, order_id, instrument)


def test_require_order_id__invalid__raises_with_the_value() -> None:
    assert require_order_id(VALID_ORDER_ID) == VALID_ORDER_ID
    with pytest.raises(InvalidClaimInputError) as raised:
        require_order_id("abc.def")
    assert (raised.value.field, raised.value.value) == ("order id", "abc.def")


def test_require_instrument__lower_case__raises_with_the_value() -> None:
    assert require_instrument(VALID_INSTRUMENT) == VALID_INSTRUMENT
    with pytest.raises(InvalidClaimInputError) as raised:
        require_instrument("btc-usdt-swap")
    assert (raised.value.field, raised.value.value) == ("instrument", "btc-usdt-swap")
