"""Decoding calldata and reverts for people (operator_toolkit/decode.py), against the deployed guard's ABI."""

from __future__ import annotations

from typing import Any

import pytest
from ape.exceptions import ContractLogicError

from operator_toolkit.context import GuardContext, load_context
from operator_toolkit.decode import decode_call, describe_call, describe_error


@pytest.fixture
def ctx(project: Any, guard: Any) -> GuardContext:
    return load_context(project, guard.address)


def test_load_context__roles_flags_token_from_contract(ctx: GuardContext, guard: Any) -> None:
    assert ctx.roles["VALIDATOR"] == bytes(guard.VALIDATOR_ROLE())
    assert set(ctx.roles) >= {"VALIDATOR", "GUARDIAN", "REGISTRAR", "DEFAULT_ADMIN"}
    assert ctx.flags == {
        "claims": 1,
        "verifications": 2,
        "payouts": 4,
        "withdrawals": 8,
        "deposits": 16,
        "all": 31,
    }
    assert (ctx.decimals, ctx.symbol) == (6, "USDT")


@pytest.mark.parametrize("threshold", [4, 0])
def test_describe_error__undecoded_custom_error__arguments_exact(
    ctx: GuardContext, guard: Any, threshold: int
) -> None:
    """ape words these as `custom error 0x…: <args>`, sometimes hex, sometimes raw bytes as text."""
    data = bytes(guard.setThreshold.encode_input(threshold))
    with pytest.raises(ContractLogicError) as caught:
        guard.multicall.call([data], sender=guard.address)
    assert describe_error(ctx, caught.value) == f"InvalidThreshold(threshold={threshold}, signerCount=3)"


def test_describe_call__multicall__one_line_per_call(ctx: GuardContext, guard: Any, stranger: Any) -> None:
    inner = [
        bytes(guard.grantRole.encode_input(guard.GUARDIAN_ROLE(), stranger)),
        bytes(guard.pause.encode_input(5)),
        bytes(guard.setChallengePeriod.encode_input(7_200)),
        bytes(guard.withdraw.encode_input(stranger, 1_234_500_000)),
    ]
    lines = describe_call(ctx, decode_call(ctx, bytes(guard.multicall.encode_input(inner))))
    assert lines == [
        f"grantRole(role=GUARDIAN, account={stranger.address})",
        "pause(flags=claims|payouts)",
        "setChallengePeriod(period=2h (7200 s))",
        f"withdraw(to={stranger.address}, amount=1,234.5 USDT)",
    ]


def test_decode_call__unknown_selector__shown_raw(ctx: GuardContext) -> None:
    assert describe_call(ctx, decode_call(ctx, bytes.fromhex("deadbeef01"))) == ["0xdeadbeef(data=0x01)"]
