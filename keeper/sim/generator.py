"""Seeded generator of self-consistent scenarios with the verdict each claim must get.

The expected verdicts are derived from how each scenario is built (its kind and the numbers put on
the wire), independently of ``keeper.policy``, so the tests compare two separate derivations.
"""

from __future__ import annotations

import random
import time
from decimal import ROUND_DOWN, Decimal
from typing import Any

from keeper.evidence import ReviewCause
from keeper.interface import Exchange, ReasonCode
from keeper.sim import binance, bybit, okx
from keeper.sim.scenarios import (
    BinanceBook,
    BybitBook,
    ExpectedVerdict,
    OkxBook,
    ScenarioFile,
    SimAccount,
    SimOrder,
    SimTrade,
    wire_decimal,
)

DAY = 86_400
ANCHOR_AGE_SECONDS = 40 * DAY
"""Without an explicit anchor, liquidations fall 40 to 10 days before generation: older than the exchanges'
shortest windows (OKX's 7-day orders-history, Binance's 7-day default trade window, Bybit's 7-day default and
maximum span), well inside the longest (OKX's 3-month archive, Binance's 90 days, Bybit's 2 years), so the
regular scenarios exercise the history look-ups."""
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
BYBIT_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
EXCHANGES = ("okx", "binance", "bybit")
"""The regular mix rotates over them, claim by claim."""
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
# Bybit tells them apart by the order's createType (CreateByLiq laddered, CreateByTakeOver_PassThrough
# takeover, CreateByAdl_PassThrough ADL): every kind.
BYBIT_KINDS = tuple(KINDS)
EXCHANGE_KINDS = {"okx": tuple(KINDS), "binance": BINANCE_KINDS, "bybit": BYBIT_KINDS}
_BYBIT_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _split(total: Decimal, parts: int, rng: random.Random, quantum: Decimal) -> list[Decimal]:
    """Split ``total`` into ``parts`` multiples of ``quantum`` that add up exactly."""
    units = int(total / quantum)
    if parts <= 1 or abs(units) < parts:
        return [total] + [Decimal(0)] * (parts - 1)
    cuts = sorted(rng.sample(range(1, abs(units)), parts - 1))
    sign = 1 if units >= 0 else -1
    bounds = [0, *cuts, abs(units)]
    return [quantum * sign * (bounds[i + 1] - bounds[i]) for i in range(parts)]


class ScenarioGenerator:
    def __init__(
        self,
        seed: int,
        policy: dict[str, Any] | None = None,
        anchor: int | None = None,
        now: int | None = None,
    ) -> None:
        self.now = int(time.time()) if now is None else now
        """Unix seconds the scenario is generated for: the simulator's clock when it serves the file."""
        self.anchor = self.now - ANCHOR_AGE_SECONDS if anchor is None else anchor
        self.rng = random.Random(seed)
        self.seed = seed
        self.policy = {**DEFAULT_POLICY, **(policy or {})}
        self.accounts: dict[str, list[SimAccount]] = {"okx": [], "binance": [], "bybit": []}
        self.okx = OkxBook()
        self.binance = BinanceBook()
        self.bybit = BybitBook()
        self.expected: list[ExpectedVerdict] = []
        self._next_id = 10**6 + self.rng.randrange(10**6)

    def _id(self) -> int:
        self._next_id += self.rng.randint(1, 999)
        return self._next_id

    def next_id(self) -> int:
        """A fresh id (order, trade, bill): increasing, never reused within the file."""
        return self._id()

    def account(self, exchange: str) -> SimAccount:
        """A new account of ``exchange`` (okx, binance or bybit) with fresh credentials (an HMAC key)."""
        return self._account(exchange)

    def order(
        self,
        exchange: str,
        owner: SimAccount,
        kind: str,
        *,
        profitable: bool = False,
        time_ms: int | None = None,
    ) -> SimOrder:
        """A new order of ``kind`` (full, partial, adl, none), liquidated at ``time_ms`` (default: in the 30
        days after the anchor); not published: the caller puts it on the wire (``okx.publish_order``, ...)."""
        order = self._order(exchange, owner, kind, profitable)
        if time_ms is not None:
            order.time_ms = time_ms
        return order

    def expect(
        self,
        order: SimOrder,
        scenario: str,
        *,
        reason: ReasonCode | None = None,
        review_cause: str | None = None,
        claimant: SimAccount | None = None,
        loss: Decimal | None = None,
        submitted_at: int | None = None,
        evidence: bool = True,
    ) -> ExpectedVerdict:
        """Files a claim for ``order`` (by its owner unless ``claimant``), filed inside the claim window and
        the coverage term, and records what the keeper must conclude: ``reason`` (the payout follows from
        ``loss``, default the order's) or, exactly one of them, ``review_cause`` (a person decides)."""
        if (reason is None) == (review_cause is None):
            raise ValueError("expect() takes a reason or a review cause, exactly one")
        rng = self.rng
        whole_s = order.time_ms // 1000
        window = int(self.policy["claim_window_seconds"])
        if submitted_at is None:
            submitted_at = whole_s + 1 + rng.randint(60, max(61, window - 120))
        scale = Decimal(10) ** int(self.policy["token_decimals"])
        lost = order.loss if loss is None else loss
        loss_units = int((lost * scale).to_integral_value(rounding=ROUND_DOWN))
        claimed = max(1, int(loss_units * rng.uniform(0.5, 1.5)))
        claim = {
            "claim_id": len(self.expected) + 1,
            "user": "0x" + self._hex(20),
            "exchange": order.exchange,
            "account_ref": (claimant or order.owner).account_ref,
            "order_id": order.order_id,
            "instrument": order.instrument,
            "claimed_loss": claimed,
            "submitted_at": submitted_at,
            "coverage_start": whole_s - rng.randint(DAY, 90 * DAY),
            "coverage_end": whole_s + 1 + rng.randint(DAY, 180 * DAY),
            "remaining_coverage": claimed,
        }
        payout = 0
        if reason is ReasonCode.APPROVED:
            ratio = Decimal(str(self.policy["coverage_ratio"]))
            covered = int((lost * ratio * scale).to_integral_value(rounding=ROUND_DOWN))
            payout = min(covered, claimed, int(self.policy["max_payout_per_claim"]))
            if payout == 0:
                reason = ReasonCode.ZERO_PAYOUT
        verdict = ExpectedVerdict(
            scenario=f"{order.exchange}:{scenario}",
            claim=claim,
            reason_code=None if reason is None else int(reason),
            review_cause=review_cause,
            payout=payout,
            liquidation=order.kind if evidence and reason is not None else None,
            loss=wire_decimal(lost) if evidence and reason is not None else None,
        )
        self.expected.append(verdict)
        return verdict

    def _hex(self, nbytes: int) -> str:
        return self.rng.randbytes(nbytes).hex()

    def _account(self, exchange: str) -> SimAccount:
        if exchange == "bybit":  # Bybit's system-generated keys: an 18-character key, a 36-character secret
            bybit_account = SimAccount(
                account_ref="0x" + self._hex(32),
                exchange="bybit",
                api_key="".join(self.rng.choices(_BYBIT_KEY_ALPHABET, k=18)),
                secret="".join(self.rng.choices(_BYBIT_KEY_ALPHABET, k=36)),
            )
            self.accounts[exchange].append(bybit_account)
            return bybit_account
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
        for exchange in EXCHANGES:
            for _ in range(per_exchange):
                self._account(exchange)
        rotation = len(EXCHANGES)
        for index in range(count):
            exchange = EXCHANGES[index % rotation]
            kinds = EXCHANGE_KINDS[exchange]
            if index < rotation * len(kinds):
                kind = kinds[(index // rotation) % len(kinds)]  # every kind at least once per exchange
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
            accounts=[*self.accounts["okx"], *self.accounts["binance"], *self.accounts["bybit"]],
            okx=self.okx,
            binance=self.binance,
            bybit=self.bybit,
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
        order_id = order.order_id
        if scenario == "unknown_order":
            order_id = bybit.order_uuid(rng) if exchange == "bybit" else str(self._id() + 7 * 10**9)
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
        # No credentials for the claim's accountRef is the keeper's configuration gap: a person decides.
        needs_person = reason is ReasonCode.UNKNOWN_ACCOUNT
        self.expected.append(
            ExpectedVerdict(
                scenario=f"{exchange}:{scenario}",
                claim=claim,
                reason_code=None if needs_person else int(reason),
                review_cause=ReviewCause.UNKNOWN_ACCOUNT.value if needs_person else None,
                payout=payout,
                liquidation=wire_kind if evidence_expected else None,
                loss=wire_decimal(order.loss) if evidence_expected else None,
            )
        )

    def _order(self, exchange: str, owner: SimAccount, kind: str, profitable: bool) -> SimOrder:
        rng = self.rng
        instruments = {"okx": OKX_INSTRUMENTS, "binance": BINANCE_SYMBOLS, "bybit": BYBIT_SYMBOLS}[exchange]
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
        trades = [SimTrade(s, p, f, self._id()) for s, p, f in zip(sizes, pnls, fees, strict=True)]
        time_ms = (self.anchor + rng.randint(0, 30 * DAY)) * 1000 + rng.randint(0, 999)
        if exchange == "okx":
            order_id = str(self._id() * 10**9 + rng.randint(0, 10**9))
        elif exchange == "bybit":
            order_id = bybit.order_uuid(rng)
        else:
            order_id = str(self._id())
        return SimOrder(
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

    def _publish(self, order: SimOrder) -> None:
        if order.exchange == "okx":
            okx.publish_order(self.okx, order)
        elif order.exchange == "bybit":
            bybit.publish_order(self.bybit, order, self.rng, self._id)
        else:
            binance.publish_order(self.binance, order, self.rng, self._id)


def generate(
    count: int, seed: int, policy: dict[str, Any] | None = None, anchor: int | None = None
) -> ScenarioFile:
    """``anchor``: unix seconds; liquidations fall in the 30 days after it (default: 40 days ago)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    return ScenarioGenerator(seed, policy, anchor).generate(count)


def generate_edge_cases(
    seed: int, now: int | None = None, policy: dict[str, Any] | None = None
) -> ScenarioFile:
    """One claim per rule of the real exchanges that the regular mix does not reach (retention and aged-out
    orders, delisted instruments, settlement currencies, penalties, partial-then-full liquidations), each
    with the verdict or the manual-review cause the keeper must reach; ``now`` is the simulator's clock."""
    gen = ScenarioGenerator(seed, policy, now=now)
    for exchange in EXCHANGES:
        for _ in range(2):
            gen.account(exchange)
    okx.publish_edge_cases(gen)
    binance.publish_edge_cases(gen)
    bybit.publish_edge_cases(gen)
    return gen.scenario_file()
