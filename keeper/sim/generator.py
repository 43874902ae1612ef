"""Seeded generator of self-consistent scenarios with the verdict each claim must get.

The expected verdicts are derived from how each scenario is built (its kind and the numbers put on
the wire), independently of ``keeper.policy``, so the tests compare two separate derivations.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from keeper.interface import Exchange, ReasonCode
from keeper.sim.scenarios import (
    BinanceBook,
    ExpectedVerdict,
    OkxBook,
    OwnedRecord,
    ScenarioFile,
    SimAccount,
)

ANCHOR_SECONDS = 1_790_000_000  # 2026-09-21; liquidations fall in the 30 days after it
DAY = 86_400
DEFAULT_POLICY: dict[str, Any] = {
    "coverage_ratio": "0.8",
    "claim_window_seconds": 7 * DAY,
    "cover_adl": False,
    "max_payout_per_claim": 2_500 * 10**6,
    "token_decimals": 6,
    "policy_version": "sim-policy-1",
}
OKX_INSTRUMENTS = ("BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP")
BINANCE_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
# Scenario kind -> (liquidation kind put on the wire, expected reason code).
KINDS: dict[str, tuple[str, ReasonCode]] = {
    "full_liquidation": ("full", ReasonCode.APPROVED),
    "partial_liquidation": ("partial", ReasonCode.APPROVED),
    "adl": ("adl", ReasonCode.ADL_NOT_COVERED),
    "normal_close": ("none", ReasonCode.NOT_LIQUIDATED),
    "liquidation_without_loss": ("full", ReasonCode.NO_LOSS),
    "order_of_other_account": ("full", ReasonCode.ORDER_NOT_FOUND),
    "unknown_order": ("full", ReasonCode.ORDER_NOT_FOUND),
    "unknown_account": ("full", ReasonCode.UNKNOWN_ACCOUNT),
    "exchange_mismatch": ("full", ReasonCode.ACCOUNT_MISMATCH),
    "outside_coverage": ("full", ReasonCode.OUTSIDE_COVERAGE),
    "claim_window_expired": ("full", ReasonCode.CLAIM_WINDOW_EXPIRED),
    "no_remaining_coverage": ("full", ReasonCode.ZERO_PAYOUT),
}
# Reasons decided before any evidence is fetched (the order or the account cannot be looked up).
WITHOUT_EVIDENCE = frozenset(
    {ReasonCode.ORDER_NOT_FOUND, ReasonCode.UNKNOWN_ACCOUNT, ReasonCode.ACCOUNT_MISMATCH}
)
# Binance REST cannot tell a partial liquidation from a full one.
BINANCE_KINDS = tuple(k for k in KINDS if k != "partial_liquidation")


def _wire(value: Decimal) -> str:
    return format(value, "f")


def _split(total: Decimal, parts: int, rng: random.Random, quantum: Decimal) -> list[Decimal]:
    """Split ``total`` into ``parts`` multiples of ``quantum`` that add up exactly."""
    units = int(total / quantum)
    if parts <= 1 or abs(units) < parts:
        return [total] + [Decimal(0)] * (parts - 1)
    cuts = sorted(rng.sample(range(1, abs(units)), parts - 1))
    sign = 1 if units >= 0 else -1
    bounds = [0, *cuts, abs(units)]
    return [quantum * sign * (bounds[i + 1] - bounds[i]) for i in range(parts)]


@dataclass
class _Trade:
    size: Decimal
    pnl: Decimal
    fee: Decimal
    trade_id: int


@dataclass
class _Order:
    exchange: str
    owner: SimAccount
    order_id: str
    instrument: str
    kind: str
    time_ms: int
    price: Decimal
    size: Decimal
    pnl: Decimal
    fee: Decimal
    penalty: Decimal
    trades: list[_Trade]

    @property
    def loss(self) -> Decimal:
        net = self.pnl + self.fee + self.penalty
        return -net if net < 0 else Decimal(0)


class ScenarioGenerator:
    def __init__(self, seed: int, policy: dict[str, Any] | None = None, anchor: int | None = None) -> None:
        self.anchor = ANCHOR_SECONDS if anchor is None else anchor
        self.rng = random.Random(seed)
        self.seed = seed
        self.policy = {**DEFAULT_POLICY, **(policy or {})}
        self.accounts: dict[str, list[SimAccount]] = {"okx": [], "binance": []}
        self.okx = OkxBook()
        self.binance = BinanceBook()
        self.expected: list[ExpectedVerdict] = []
        self._next_id = 10**6 + self.rng.randrange(10**6)

    def _id(self) -> int:
        self._next_id += self.rng.randint(1, 999)
        return self._next_id

    def _hex(self, nbytes: int) -> str:
        return self.rng.randbytes(nbytes).hex()

    def _account(self, exchange: str) -> SimAccount:
        account = SimAccount(
            account_ref="0x" + self._hex(32),
            exchange=exchange,
            api_key=self._hex(16) if exchange == "okx" else self._hex(32),
            secret=self._hex(16).upper() if exchange == "okx" else self._hex(32),
            passphrase=f"Pass-{self._hex(4)}" if exchange == "okx" else None,
        )
        self.accounts[exchange].append(account)
        return account

    def generate(self, count: int) -> ScenarioFile:
        per_exchange = max(2, count // 8)
        for exchange in ("okx", "binance"):
            for _ in range(per_exchange):
                self._account(exchange)
        for index in range(count):
            exchange = "okx" if index % 2 == 0 else "binance"
            kinds = tuple(KINDS) if exchange == "okx" else BINANCE_KINDS
            if index < 2 * len(kinds):
                kind = kinds[(index // 2) % len(kinds)]  # every kind at least once per exchange
            else:
                weights = [4 if KINDS[k][1] is ReasonCode.APPROVED else 1 for k in kinds]
                kind = self.rng.choices(kinds, weights=weights)[0]
            self._scenario(exchange, kind)
        return self.scenario_file()

    def scenario_file(self) -> ScenarioFile:
        """Everything generated so far (subclasses with their own mix of scenarios end with this)."""
        return ScenarioFile(
            seed=self.seed,
            policy=self.policy,
            accounts=[*self.accounts["okx"], *self.accounts["binance"]],
            okx=self.okx,
            binance=self.binance,
            expected=self.expected,
        )

    def _scenario(self, exchange: str, scenario: str) -> None:
        rng = self.rng
        wire_kind, reason = KINDS[scenario]
        claimant = rng.choice(self.accounts[exchange])
        owner = claimant
        if scenario == "order_of_other_account":
            owner = rng.choice([a for a in self.accounts[exchange] if a is not claimant])
        order = self._order(exchange, owner, wire_kind, profitable=scenario == "liquidation_without_loss")
        self._publish(order)

        liquidated_s = Decimal(order.time_ms) / 1000
        whole_s = order.time_ms // 1000
        window = int(self.policy["claim_window_seconds"])
        submitted_at = whole_s + 1 + rng.randint(60, max(61, window - 120))
        coverage_start = whole_s - rng.randint(DAY, 90 * DAY)
        coverage_end = whole_s + 1 + rng.randint(DAY, 180 * DAY)
        if scenario == "outside_coverage":
            coverage_end = whole_s - rng.randint(1, 30 * DAY)
            coverage_start = coverage_end - rng.randint(DAY, 90 * DAY)
        if scenario == "claim_window_expired":
            submitted_at = whole_s + 1 + window + rng.randint(1, 30 * DAY)
        assert coverage_start <= coverage_end

        scale = Decimal(10) ** int(self.policy["token_decimals"])
        loss_units = int((order.loss * scale).to_integral_value(rounding=ROUND_DOWN))
        claimed = max(1, int(loss_units * rng.uniform(0.5, 1.5)))
        remaining = max(1, int(loss_units * rng.uniform(0.3, 3.0)))
        if scenario == "no_remaining_coverage":
            remaining = 0

        claim_exchange = exchange
        if scenario == "exchange_mismatch":
            claim_exchange = "binance" if exchange == "okx" else "okx"
        account_ref = claimant.account_ref if scenario != "unknown_account" else "0x" + self._hex(32)
        order_id = order.order_id if scenario != "unknown_order" else str(self._id() + 7 * 10**9)
        claim = {
            "claim_id": len(self.expected) + 1,
            "user": "0x" + self._hex(20),
            "exchange": Exchange.from_slug(claim_exchange).slug,
            "account_ref": account_ref,
            "order_id": order_id,
            "instrument": order.instrument,
            "claimed_loss": claimed,
            "submitted_at": submitted_at,
            "coverage_start": coverage_start,
            "coverage_end": coverage_end,
            "remaining_coverage": remaining,
        }
        payout = 0
        if reason is ReasonCode.APPROVED:
            ratio = Decimal(str(self.policy["coverage_ratio"]))
            covered = int((order.loss * ratio * scale).to_integral_value(rounding=ROUND_DOWN))
            payout = min(covered, claimed, remaining, int(self.policy["max_payout_per_claim"]))
            if payout == 0:
                reason = ReasonCode.ZERO_PAYOUT
        evidence_expected = reason not in WITHOUT_EVIDENCE
        assert liquidated_s >= coverage_start
        self.expected.append(
            ExpectedVerdict(
                scenario=f"{exchange}:{scenario}",
                claim=claim,
                reason_code=int(reason),
                payout=payout,
                liquidation=wire_kind if evidence_expected else None,
                loss=_wire(order.loss) if evidence_expected else None,
            )
        )

    def _order(self, exchange: str, owner: SimAccount, kind: str, profitable: bool) -> _Order:
        rng = self.rng
        instruments = OKX_INSTRUMENTS if exchange == "okx" else BINANCE_SYMBOLS
        price = Decimal(rng.randint(10_000, 1_000_000)) / 100
        size = Decimal(rng.randint(1, 400)) / 10
        pnl = -Decimal(rng.randint(500, 4_000_000)) / 1000
        fee = -Decimal(rng.randint(1, 90_000)) / 10_000
        if profitable:
            pnl = Decimal(rng.randint(100_000, 900_000)) / 1000
        penalty = Decimal(0)
        if exchange == "binance" and kind in ("full", "partial") and not profitable:
            penalty = -Decimal(rng.randint(0, 20_000)) / 1000
        fills = min(rng.randint(1, 4), int(size * 10))
        sizes = _split(size, fills, rng, Decimal("0.1"))
        pnls = _split(pnl, fills, rng, Decimal("0.001"))
        fees = _split(fee, fills, rng, Decimal("0.0001"))
        trades = [_Trade(s, p, f, self._id()) for s, p, f in zip(sizes, pnls, fees, strict=True)]
        time_ms = (self.anchor + rng.randint(0, 30 * DAY)) * 1000 + rng.randint(0, 999)
        order_id = str(self._id() * 10**9 + rng.randint(0, 10**9)) if exchange == "okx" else str(self._id())
        return _Order(
            exchange,
            owner,
            order_id,
            rng.choice(instruments),
            kind,
            time_ms,
            price,
            size,
            pnl,
            fee,
            penalty,
            trades,
        )

    def _publish(self, order: _Order) -> None:
        if order.exchange == "okx":
            self._publish_okx(order)
        else:
            self._publish_binance(order)

    def _publish_okx(self, o: _Order) -> None:
        category = {
            "full": "full_liquidation",
            "partial": "partial_liquidation",
            "adl": "adl",
            "none": "normal",
        }
        sub_type = {"full": "104", "partial": "100", "adl": "125", "none": "5"}[o.kind]
        system = o.kind != "none"
        last = o.trades[-1]
        u_time = o.time_ms + 3
        wire = {
            "accFillSz": _wire(o.size),
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": [],
            "avgPx": _wire(o.price),
            "cTime": str(o.time_ms - 40),
            "cancelSource": "",
            "cancelSourceReason": "",
            "category": category[o.kind],
            "ccy": "",
            "clOrdId": "",
            "fee": _wire(o.fee),
            "feeCcy": "USDT",
            "fillPx": _wire(o.price),
            "fillSz": _wire(last.size),
            "fillTime": str(o.time_ms),
            "instId": o.instrument,
            "instType": "SWAP",
            "isTpLimit": "false",
            "lever": "10",
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": o.order_id,
            "ordType": "market" if not system else "ioc",
            "pnl": _wire(o.pnl),
            "posSide": "net",
            "px": "",
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": "USDT",
            "reduceOnly": "true",
            "side": "sell",
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": "filled",
            "stpId": "",
            "stpMode": "",
            "sz": _wire(o.size),
            "tag": "",
            "tdMode": "cross",
            "tgtCcy": "",
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": "0" if system else str(last.trade_id),
            "tradeQuoteCcy": "USDT",
            "uTime": str(u_time),
        }
        self.okx.orders.append(OwnedRecord(owner=o.owner.api_key, wire=wire))
        for index, trade in enumerate(o.trades):
            ts = o.time_ms - (len(o.trades) - 1 - index)
            fill = {
                "side": "sell",
                "fillSz": _wire(trade.size),
                "fillPx": _wire(o.price),
                "fillPxVol": "",
                "fillFwdPx": "",
                "fee": _wire(trade.fee),
                "fillPnl": _wire(trade.pnl),
                "ordId": o.order_id,
                "feeRate": "-0.0005",
                "instType": "SWAP",
                "fillPxUsd": "",
                "instId": o.instrument,
                "clOrdId": "",
                "posSide": "net",
                "billId": str(trade.trade_id * 7),
                "subType": sub_type,
                "fillMarkVol": "",
                "tag": "",
                "fillTime": str(ts),
                "execType": "" if system else "T",
                "fillIdxPx": "",
                "tradeId": f"-{trade.trade_id}" if system else str(trade.trade_id),
                "fillMarkPx": _wire(o.price),
                "feeCcy": "USDT",
                "ts": str(ts),
                "tradeQuoteCcy": "USDT",
            }
            self.okx.fills.append(OwnedRecord(owner=o.owner.api_key, wire=fill))

    def _publish_binance(self, o: _Order) -> None:
        client_id = {
            "full": f"autoclose-{o.time_ms}{self.rng.randint(100000, 999999)}",
            "adl": "adl_autoclose",
        }
        system = o.kind != "none"
        cum_quote = o.size * o.price
        created, updated = o.time_ms - 43, o.time_ms
        wire = {
            "avgPrice": _wire(o.price),
            "clientOrderId": client_id.get(o.kind, f"web_{self._hex(10)}"),
            "cumQuote": _wire(cum_quote),
            "executedQty": _wire(o.size),
            "orderId": int(o.order_id),
            "origQty": _wire(o.size),
            "origType": "LIMIT",
            "price": _wire(o.price),
            "reduceOnly": False,
            "side": "SELL",
            "positionSide": "BOTH",
            "status": "FILLED",
            "stopPrice": "0",
            "closePosition": False,
            "symbol": o.instrument,
            "time": created,
            "timeInForce": "IOC" if o.kind == "full" else "GTC",
            "type": "LIMIT",
            "updateTime": updated,
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "NONE",
            "goodTillDate": 0,
        }
        self.binance.orders.append(OwnedRecord(owner=o.owner.api_key, wire=wire))
        if system:
            force_fields = (
                "orderId",
                "symbol",
                "status",
                "clientOrderId",
                "price",
                "avgPrice",
                "origQty",
                "executedQty",
                "cumQuote",
                "timeInForce",
                "type",
                "reduceOnly",
                "closePosition",
                "side",
                "positionSide",
                "stopPrice",
                "workingType",
                "origType",
                "time",
            )
            force = {name: wire[name] for name in force_fields} | {"updateTime": updated}
            self.binance.force_orders.append(OwnedRecord(owner=o.owner.api_key, wire=force))
        for index, trade in enumerate(o.trades):
            self.binance.trades.append(
                OwnedRecord(
                    owner=o.owner.api_key,
                    wire={
                        "buyer": False,
                        "commission": _wire(-trade.fee),
                        "commissionAsset": "USDT",
                        "id": trade.trade_id,
                        "maker": False,
                        "orderId": int(o.order_id),
                        "price": _wire(o.price),
                        "qty": _wire(trade.size),
                        "quoteQty": _wire(trade.size * o.price),
                        "realizedPnl": _wire(trade.pnl),
                        "side": "SELL",
                        "positionSide": "BOTH",
                        "symbol": o.instrument,
                        "time": updated - (len(o.trades) - 1 - index),
                    },
                )
            )
        if o.penalty:
            self.binance.income.append(
                OwnedRecord(
                    owner=o.owner.api_key,
                    wire={
                        "symbol": o.instrument,
                        "incomeType": "INSURANCE_CLEAR",
                        "income": _wire(o.penalty),
                        "asset": "USDT",
                        "info": "",
                        "time": updated,
                        "tranId": self._id(),
                        "tradeId": str(o.trades[-1].trade_id),
                    },
                )
            )


def generate(
    count: int, seed: int, policy: dict[str, Any] | None = None, anchor: int | None = None
) -> ScenarioFile:
    """``anchor``: unix seconds; liquidations fall in the 30 days after it (default ``ANCHOR_SECONDS``)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    return ScenarioGenerator(seed, policy, anchor).generate(count)
