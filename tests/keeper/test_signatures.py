"""The signature recipes against the documented test vectors (docs/keeper-verification.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from keeper.exchanges.binance import binance_signature
from keeper.exchanges.okx import okx_signature, okx_timestamp


def test_okx_signature__documented_example__matches_vector() -> None:
    sign = okx_signature(
        "2020-12-08T09:08:57.715Z",
        "GET",
        "/api/v5/account/balance?ccy=BTC",
        "",
        "22582BD0CFF14C41EDBF1AB98506286D",
    )
    assert sign == "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="


def test_okx_signature__lower_case_method__is_upper_cased_before_signing() -> None:
    upper = okx_signature("2020-12-08T09:08:57.715Z", "GET", "/api/v5/account/balance?ccy=BTC", "", "s")
    lower = okx_signature("2020-12-08T09:08:57.715Z", "get", "/api/v5/account/balance?ccy=BTC", "", "s")
    assert upper == lower


def test_okx_signature__query_changes__signature_changes() -> None:
    a = okx_signature("2020-12-08T09:08:57.715Z", "GET", "/api/v5/account/balance?ccy=BTC", "", "s")
    b = okx_signature("2020-12-08T09:08:57.715Z", "GET", "/api/v5/account/balance?ccy=ETH", "", "s")
    assert a != b


def test_okx_timestamp__utc_with_milliseconds__iso_z_format() -> None:
    assert okx_timestamp(datetime(2020, 12, 8, 9, 8, 57, 715_999, tzinfo=UTC)) == "2020-12-08T09:08:57.715Z"


def test_binance_signature__documented_example__matches_vector() -> None:
    query = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
        "&recvWindow=5000&timestamp=1591702613943"
    )
    secret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
    assert (
        binance_signature(query, secret) == "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    )
