"""`ape run claim`, `ape run pause` and `ape run registrar` through click, against anvil."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from support.cli import RunCli
from support.pool import DAY, MAX_COVERAGE_LIMIT, PAUSE_CLAIMS, PAUSE_PAYOUTS, USDT

from operator_toolkit.units import format_timestamp

SALT = "registrar-test-salt-0123456789"


def test_claim_file__insured_trader__claim_on_chain(run_cli: RunCli, insured: Any, trader: Any) -> None:
    result = run_cli(
        "claim",
        "file",
        "--exchange",
        "okx",
        "--order-id",
        "cli-order-1",
        "--instrument",
        "BTC-USDT-SWAP",
        "--loss",
        "1200.5 USDT",
        account=trader,
    )

    assert result.exit_code == 0, result.output
    claim_id = insured.claimCount()
    assert f"Claim #{claim_id} filed" in result.output
    claim = insured.getClaim(claim_id)
    assert (claim.user, claim.exchange, claim.claimedLoss) == (trader.address, 1, 1_200_500_000)
    status = run_cli("claim", "status", str(claim_id))
    assert status.exit_code == 0, status.output
    assert "Pending" in status.output and "1,200.5 USDT" in status.output
    assert "order id     │ cli-order-1" in status.output, status.output
    assert "instrument   │ BTC-USDT-SWAP" in status.output
    assert "exchange     │ okx" in status.output


def test_claim_file__not_whitelisted__refused_before_chain(
    run_cli: RunCli, guard: Any, stranger: Any
) -> None:
    args = ("--exchange", "binance", "--order-id", "x-1", "--instrument", "BTCUSDT", "--loss", "10")
    result = run_cli("claim", "file", *args, account=stranger)

    assert result.exit_code == 1
    assert f"NotWhitelisted(user={stranger.address})" in result.output
    assert guard.claimCount() == 0


def test_pause__guardian__flags_set(run_cli: RunCli, guard: Any, guardian: Any) -> None:
    result = run_cli("pause", "claims,payouts", account=guardian)

    assert result.exit_code == 0, result.output
    assert "paused flags none -> claims|payouts" in result.output
    assert guard.pausedFlags() == PAUSE_CLAIMS | PAUSE_PAYOUTS


def test_pause__stranger__unauthorized(run_cli: RunCli, guard: Any, stranger: Any) -> None:
    result = run_cli("pause", "all", account=stranger)

    assert result.exit_code == 1
    assert f"Unauthorized(account={stranger.address})" in result.output
    assert guard.pausedFlags() == 0


def test_pause__unknown_flag__bad_parameter(run_cli: RunCli, guardian: Any) -> None:
    result = run_cli("pause", "claims,transfers", account=guardian)
    assert result.exit_code == 2
    assert "'transfers' is not a pause flag" in result.output


TRADERS = [f"0x{n:040x}" for n in (0xA1, 0xA2, 0xA3)]


def _whitelist_csv(path: Path, coverage_end: int, rows: list[tuple[str, str, str]] | None = None) -> Path:
    rows = rows or [
        (TRADERS[0], "okx", "uid-1"),
        (TRADERS[1], "binance", "uid-2"),
        (TRADERS[2], "okx", "uid-3"),
    ]
    lines = ["address,exchange,exchange_account_id,coverage_limit,coverage_end"]
    lines += [f"{a},{e},{i},5000 USDT,{coverage_end}" for a, e, i in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_registrar_whitelist__csv_in_batches__salted_refs(
    run_cli: RunCli,
    guard: Any,
    registrar: Any,
    coverage_end: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_ACCOUNT_REF_SALT", SALT)
    csv_file = _whitelist_csv(tmp_path / "traders.csv", coverage_end)

    result = run_cli("registrar", "whitelist", str(csv_file), "--batch-size", "2", account=registrar)

    assert result.exit_code == 0, result.output
    assert "Whitelisted 3 trader(s)." in result.output
    assert "uid-" not in result.output and SALT not in result.output
    for address, exchange, account_id in [(TRADERS[0], "okx", "uid-1"), (TRADERS[1], "binance", "uid-2")]:
        policy = guard.getPolicy(address)
        expected = keccak(SALT.encode() + b"\x00" + exchange.encode() + b"\x00" + account_id.encode())
        assert bytes(policy.accountRef) == expected
        assert (policy.coverageLimit, policy.coverageEnd) == (5_000 * USDT, coverage_end)

    again = run_cli("registrar", "whitelist", str(csv_file), account=registrar)
    assert again.exit_code == 0, again.output
    assert "3 trader(s) already whitelisted with coverage in force: skipped" in again.output


def test_registrar_whitelist__malformed_row__names_line_not_id(
    run_cli: RunCli, registrar: Any, coverage_end: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LG_ACCOUNT_REF_SALT", SALT)
    rows = [(TRADERS[0], "okx", "uid-1"), ("0x1234", "okx", "secret-uid-2")]
    csv_file = _whitelist_csv(tmp_path / "bad.csv", coverage_end, rows)

    result = run_cli("registrar", "whitelist", str(csv_file), account=registrar)

    assert result.exit_code == 2
    assert "line 3: address: Value error, not an address" in result.output
    assert "secret-uid-2" not in result.output


def test_registrar_whitelist__no_salt__usage_error(
    run_cli: RunCli, registrar: Any, coverage_end: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LG_ACCOUNT_REF_SALT", raising=False)
    result = run_cli(
        "registrar", "whitelist", str(_whitelist_csv(tmp_path / "t.csv", coverage_end)), account=registrar
    )
    assert result.exit_code == 2
    assert "LG_ACCOUNT_REF_SALT" in result.output


def test_registrar_blacklist__csv__blacklisted(
    run_cli: RunCli, guard: Any, registrar: Any, stranger: Any, tmp_path: Path
) -> None:
    csv_file = tmp_path / "banned.csv"
    csv_file.write_text(f"address\n{TRADERS[0]}\n{stranger.address}\n")

    result = run_cli("registrar", "blacklist", str(csv_file), account=registrar)

    assert result.exit_code == 0, result.output
    assert guard.isBlacklisted(TRADERS[0]) and guard.isBlacklisted(stranger)


def test_registrar_whitelist__blacklisted_trader__refused_with_error(
    run_cli: RunCli,
    guard: Any,
    registrar: Any,
    coverage_end: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_ACCOUNT_REF_SALT", SALT)
    guard.addToBlacklist([TRADERS[2]], sender=registrar)

    result = run_cli(
        "registrar",
        "whitelist",
        str(_whitelist_csv(tmp_path / "t.csv", coverage_end)),
        "--batch-size",
        "2",
        account=registrar,
    )

    assert result.exit_code == 1
    assert (
        "batch 2 of 2 refused: UserBlacklisted(user=0x00000000000000000000000000000000000000A3)"
        in result.output
    )
    assert guard.isWhitelisted(TRADERS[0]) and not guard.isWhitelisted(TRADERS[2])


def test_claim_status__approved__payable_at_shown(run_cli: RunCli, guard: Any, approved_claim: int) -> None:
    payable_at = int(guard.getClaim(approved_claim).payableAt)

    result = run_cli("claim", "status", str(approved_claim))

    assert result.exit_code == 0, result.output
    assert "Approved" in result.output and "800 USDT" in result.output
    assert f"payable from │ {format_timestamp(payable_at)}" in result.output


def test_claim_file__lower_case_instrument__refused_with_hint(
    run_cli: RunCli, insured: Any, trader: Any
) -> None:
    args = ("--exchange", "okx", "--order-id", "o-1", "--instrument", "btc-usdt-swap", "--loss", "10")
    result = run_cli("claim", "file", *args, account=trader)

    assert result.exit_code == 2
    assert "(instruments are upper-case: 'BTC-USDT-SWAP')" in result.output
    assert insured.claimCount() == 0


def test_registrar_whitelist__account_ref_in_use__decoded(
    run_cli: RunCli,
    guard: Any,
    registrar: Any,
    coverage_end: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_ACCOUNT_REF_SALT", SALT)
    rows = [(TRADERS[0], "okx", "uid-1")]
    assert (
        run_cli(
            "registrar",
            "whitelist",
            str(_whitelist_csv(tmp_path / "a.csv", coverage_end, rows)),
            account=registrar,
        ).exit_code
        == 0
    )
    squatter = [(TRADERS[1], "okx", "uid-1")]  # the same exchange account for another address

    result = run_cli(
        "registrar",
        "whitelist",
        str(_whitelist_csv(tmp_path / "b.csv", coverage_end, squatter)),
        account=registrar,
    )

    ref = "0x" + keccak(SALT.encode() + b"\x00okx\x00uid-1").hex()
    assert result.exit_code == 1
    assert f"AccountRefInUse(accountRef={ref}, holder={guard.accountRefHolder(ref)})" in result.output
    assert guard.accountRefHolder(ref) == to_checksum_address(TRADERS[0])
    assert not guard.isWhitelisted(TRADERS[1])


def test_registrar_whitelist__over_max_coverage__decoded(
    run_cli: RunCli,
    guard: Any,
    registrar: Any,
    coverage_end: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_ACCOUNT_REF_SALT", SALT)
    csv_file = tmp_path / "big.csv"
    csv_file.write_text(
        "address,exchange,exchange_account_id,coverage_limit,coverage_end\n"
        f"{TRADERS[0]},okx,uid-1,60000 USDT,{coverage_end}\n"
    )

    result = run_cli("registrar", "whitelist", str(csv_file), account=registrar)

    assert result.exit_code == 1
    assert f"CoverageLimitAboveMax(coverageLimit=60,000 USDT, max={MAX_COVERAGE_LIMIT // USDT:,} USDT)" in (
        result.output
    )
    assert not guard.isWhitelisted(TRADERS[0])


def test_registrar_extend__csv__renewed_in_place(
    run_cli: RunCli,
    insured: Any,
    registrar: Any,
    trader: Any,
    other_trader: Any,
    coverage_end: int,
    tmp_path: Path,
) -> None:
    start = int(insured.getPolicy(trader).coverageStart)
    later = coverage_end + 30 * DAY
    csv_file = tmp_path / "renew.csv"
    csv_file.write_text(
        f"address,coverage_limit,coverage_end\n{trader.address},12000 USDT,{later}\n"
        f"{other_trader.address},12000,{later}\n"
    )

    result = run_cli("registrar", "extend", str(csv_file), account=registrar)

    assert result.exit_code == 0, result.output
    assert "Extended 2 policies." in result.output
    policy = insured.getPolicy(trader)
    assert (policy.coverageLimit, policy.coverageEnd, policy.coverageStart) == (12_000 * USDT, later, start)
    earlier = tmp_path / "earlier.csv"
    earlier.write_text(f"address,coverage_limit,coverage_end\n{trader.address},12000,{coverage_end}\n")
    refused = run_cli("registrar", "extend", str(earlier), account=registrar)
    assert refused.exit_code == 1
    assert f"CoverageEndNotLater(coverageEnd={coverage_end}, currentEnd={later})" in refused.output
