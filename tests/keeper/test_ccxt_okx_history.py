"""ccxt 4.5.90 against the simulator's new OKX endpoints: its own signer passes the simulator's check, and its
own parsers read the simulator's answers the way our adapter does (or differ where documented on purpose)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt  # type: ignore[import-untyped]
import pytest
from support.factories import make_settings

from keeper.evidence import ClaimInput, LiquidationEvidence
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier
from keeper.policy import PolicyParams
from keeper.sim import okx as sim_okx
from keeper.sim.generator import generate_edge_cases
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile, SimAccount
from keeper.sim.server import SimExchange
from keeper.verification import OutcomeStatus, VerificationRequest

NOW = int(time.time())


@pytest.fixture(scope="module")
def edge() -> ScenarioFile:
    return generate_edge_cases(5_12, NOW)


@pytest.fixture(scope="module")
def edge_sim(edge: ScenarioFile) -> Iterator[SimExchange]:
    exchange = SimExchange(edge).start()
    yield exchange
    exchange.stop()


def _case(edge: ScenarioFile, name: str) -> ExpectedVerdict:
    return next(e for e in edge.expected if e.scenario == f"okx:{name}")


def _order(edge: ScenarioFile, expected: ExpectedVerdict) -> tuple[dict[str, Any], SimAccount]:
    record = next(o for o in edge.okx.orders if o.wire["ordId"] == expected.claim["order_id"])
    return record.wire, next(a for a in edge.accounts if a.api_key == record.owner)


def _client(sim: SimExchange, account: SimAccount) -> ccxt.okx:
    return ccxt.okx(
        {
            "apiKey": account.api_key,
            "secret": account.secret,
            "password": account.passphrase,
            "urls": {"api": {"rest": sim.url}},
        }
    )


def _evidence(
    edge: ScenarioFile, sim: SimExchange, expected: ExpectedVerdict, tmp_path_factory: pytest.TempPathFactory
) -> LiquidationEvidence:
    tmp = tmp_path_factory.mktemp("ccxt-okx")
    edge.write_keeper_accounts(tmp / "accounts.json")
    settings = make_settings(sim.url, tmp / "accounts.json", tmp / "malformed")
    verifier = Verifier(settings.account_registry(), AdapterRegistry(settings), 1)
    window = PolicyParams.model_validate(edge.policy).claim_window_seconds
    outcome = verifier.verify(
        VerificationRequest.for_claim(ClaimInput.model_validate(expected.claim), window)
    )
    assert outcome.status is OutcomeStatus.VERIFIED and outcome.evidence is not None, outcome.detail
    return outcome.evidence


def _dec(value: object) -> Decimal:
    return Decimal(str(value))


def test_ccxt_okx__public_time__simulator_clock(edge: ScenarioFile, edge_sim: SimExchange) -> None:
    client = _client(edge_sim, edge.accounts[0])
    before = int(time.time() * 1000)
    response = client.public_get_public_time()
    assert response["code"] == "0"
    assert before - 1000 <= int(response["data"][0]["ts"]) <= int(time.time() * 1000) + 1000


def test_ccxt_okx__orders_history__signature_passes__parse_order_agrees_with_adapter(
    edge: ScenarioFile, edge_sim: SimExchange, tmp_path_factory: pytest.TempPathFactory
) -> None:
    expected = _case(edge, "expired_futures_5_days_orders_history")
    wire, owner = _order(edge, expected)
    client = _client(edge_sim, owner)
    response = client.private_get_trade_orders_history({"instType": "FUTURES", "instId": wire["instId"]})
    assert response["code"] == "0"
    assert response["data"] == [wire]
    parsed = client.parse_order(response["data"][0])
    evidence = _evidence(edge, edge_sim, expected, tmp_path_factory)
    assert (parsed["id"], _dec(parsed["filled"]), _dec(parsed["average"])) == (
        evidence.order_id,
        evidence.filled_size,
        evidence.average_price,
    )
    # ccxt's fee cost is the charge as a positive number; OKX (and our evidence) sign a charge negative.
    assert (_dec(parsed["fee"]["cost"]), parsed["fee"]["currency"]) == (-evidence.fees, evidence.fee_currency)
    assert parsed["lastTradeTimestamp"] == int(wire["fillTime"]) == evidence.liquidation_time_ms


def test_ccxt_okx__orders_history_archive__signature_passes__same_order_row(
    edge: ScenarioFile, edge_sim: SimExchange
) -> None:
    expected = _case(edge, "delisted_swap_40_days_archive")
    wire, owner = _order(edge, expected)
    client = _client(edge_sim, owner)
    response = client.private_get_trade_orders_history_archive(
        {"instType": "SWAP", "instId": sim_okx.DELISTED_SWAP}
    )
    assert response["data"] == [wire]
    assert client.parse_order(response["data"][0])["id"] == wire["ordId"]


def test_ccxt_okx__trade_fills__signature_passes__parse_trade_agrees_except_timestamp(
    edge: ScenarioFile, edge_sim: SimExchange, tmp_path_factory: pytest.TempPathFactory
) -> None:
    expected = _case(edge, "live_2_days_trade_fills")
    wire, owner = _order(edge, expected)
    client = _client(edge_sim, owner)
    response = client.private_get_trade_fills(
        {"instType": "SWAP", "instId": wire["instId"], "ordId": wire["ordId"]}
    )
    assert response["code"] == "0" and response["data"]
    trades = [client.parse_trade(row) for row in response["data"]]
    evidence = _evidence(edge, edge_sim, expected, tmp_path_factory)
    assert {t["order"] for t in trades} == {evidence.order_id}
    assert sum(_dec(t["amount"]) for t in trades) == evidence.filled_size
    assert sum(_dec(t["fee"]["cost"]) for t in trades) == -evidence.fees
    # ccxt dates a trade by ``ts`` (when OKX wrote the record); the adapter uses ``fillTime`` (the trade).
    assert max(t["timestamp"] for t in trades) == max(int(r["ts"]) for r in response["data"])
    assert evidence.liquidation_time_ms == max(int(r["fillTime"]) for r in response["data"])


def test_ccxt_okx__public_instruments__parse_market_reads_inverse_btc_settlement(
    edge: ScenarioFile, edge_sim: SimExchange, tmp_path_factory: pytest.TempPathFactory
) -> None:
    expected = _case(edge, "inverse_settles_in_btc")
    client = _client(edge_sim, edge.accounts[0])
    response = client.public_get_public_instruments({"instType": "SWAP", "instId": sim_okx.INVERSE_SWAP})
    market = client.parse_market(response["data"][0])
    assert (market["inverse"], market["linear"], market["settle"]) == (True, False, "BTC")
    assert _evidence(edge, edge_sim, expected, tmp_path_factory).settlement_currency == market["settle"]


def test_ccxt_okx__positions_history__parse_position_realized_pnl_is_minus_adapter_loss(
    edge: ScenarioFile, edge_sim: SimExchange, tmp_path_factory: pytest.TempPathFactory
) -> None:
    expected = _case(edge, "isolated_margin_liq_penalty")
    wire, owner = _order(edge, expected)
    client = _client(edge_sim, owner)
    response = client.private_get_account_positions_history(
        {"instType": "SWAP", "instId": wire["instId"], "mgnMode": "isolated"}
    )
    assert response["code"] == "0" and len(response["data"]) == 1
    position = client.parse_position(response["data"][0])
    evidence = _evidence(edge, edge_sim, expected, tmp_path_factory)
    assert position["marginMode"] == evidence.margin_mode == "isolated"
    # realizedPnl = pnl + fee + fundingFee + liqPenalty (+ settledPnl): the whole loss, penalty included once.
    assert _dec(position["realizedPnl"]) == -evidence.loss
    assert _dec(response["data"][0]["liqPenalty"]) == evidence.liquidation_penalty


def test_ccxt_okx__trade_order_on_delisted_instrument__ccxt_raises_bad_symbol(
    edge: ScenarioFile, edge_sim: SimExchange
) -> None:
    wire, owner = _order(edge, _case(edge, "delisted_swap_40_days_archive"))
    client = _client(edge_sim, owner)
    with pytest.raises(ccxt.BadSymbol, match="51001"):
        client.private_get_trade_order({"instId": wire["instId"], "ordId": wire["ordId"]})
