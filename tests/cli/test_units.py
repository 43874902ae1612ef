"""Parsing human input (operator_toolkit/units.py): amounts, durations, timestamps, flags, roles. Pure Python,
no chain."""

from __future__ import annotations

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from operator_toolkit.units import (
    format_amount,
    format_duration,
    format_flags,
    parse_amount,
    parse_duration,
    parse_flags,
    parse_role,
    parse_timestamp,
)

FLAGS = {"claims": 1, "verifications": 2, "payouts": 4, "withdrawals": 8, "deposits": 16, "all": 31}
ROLES = {"VALIDATOR": b"\x01" * 32, "GUARDIAN": b"\x02" * 32}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2500 USDT", 2_500_000_000),
        ("2500", 2_500_000_000),
        ("0.5 USDT", 500_000),
        ("0.5 usdt", 500_000),
        ("2,500.25", 2_500_250_000),
        ("1_000", 1_000_000_000),
        (".000001", 1),
        ("0", 0),
    ],
)
def test_parse_amount__human_units__base_units(text: str, expected: int) -> None:
    assert parse_amount(text, 6, "USDT") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12.5.3 USDT", "is not an amount"),
        ("-5", "is not an amount"),
        ("1e6", "is not an amount"),
        ("", "is not an amount"),
        ("10 DAI", "pool's token is USDT"),
        ("0.0000001", "more than 6 decimals"),
        ("USDT", "is not an amount"),
        ("2500USDT", "is not an amount"),
    ],
)
def test_parse_amount__malformed__bad_parameter_names_value(text: str, message: str) -> None:
    with pytest.raises(click.BadParameter) as caught:
        parse_amount(text, 6, "USDT")
    assert message in caught.value.message
    assert repr(text) in caught.value.message or "DAI" in caught.value.message


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_format_then_parse__round_trip(amount: int) -> None:
    assert parse_amount(format_amount(amount, 6, "USDT"), 6, "USDT") == amount


def test_format_amount__drops_trailing_zeros() -> None:
    assert format_amount(2_500_500_000, 6, "USDT") == "2,500.5 USDT"
    assert format_amount(0, 6, "USDT") == "0 USDT"


@pytest.mark.parametrize(
    ("text", "seconds"), [("3600", 3_600), ("90m", 5_400), ("6h", 21_600), ("2d", 172_800), ("1w", 604_800)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_parse_duration__malformed__bad_parameter() -> None:
    with pytest.raises(click.BadParameter, match="'6 hours'"):
        parse_duration("6 hours")


def test_format_duration() -> None:
    assert format_duration(21_600) == "6h (21600 s)"
    assert format_duration(61) == "61 s"


def test_parse_timestamp__iso_and_unix() -> None:
    assert parse_timestamp("1767139200") == 1_767_139_200
    assert parse_timestamp("2025-12-31") == 1_767_139_200
    assert parse_timestamp("2025-12-31T01:00:00+01:00") == 1_767_139_200
    with pytest.raises(click.BadParameter, match="'31/12/2025'"):
        parse_timestamp("31/12/2025")


def test_parse_flags__names_numbers_all() -> None:
    assert parse_flags("claims,payouts", FLAGS) == 5
    assert parse_flags(" Claims , PAYOUTS ", FLAGS) == 5
    assert parse_flags("all", FLAGS) == 31
    assert parse_flags("12", FLAGS) == 12
    with pytest.raises(click.BadParameter, match="'transfers' is not a pause flag"):
        parse_flags("claims,transfers", FLAGS)


def test_format_flags__single_bits_only() -> None:
    assert format_flags(31, FLAGS) == "claims|verifications|payouts|withdrawals|deposits"
    assert format_flags(0, FLAGS) == "none"


def test_parse_role__names_and_hex() -> None:
    assert parse_role("validator", ROLES) == ROLES["VALIDATOR"]
    assert parse_role("GUARDIAN_ROLE", ROLES) == ROLES["GUARDIAN"]
    assert parse_role("0x" + "ab" * 32, ROLES) == b"\xab" * 32
    with pytest.raises(click.BadParameter, match="'keeper' is not a role"):
        parse_role("keeper", ROLES)
