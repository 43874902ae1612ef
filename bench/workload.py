"""The crash-day workload of a keeper bench run: simulated exchange accounts, the exchange mix spread evenly
along the claims, and the scenario kinds a trader can file at any time (``generate_workload``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

DAY_SCALE = (
    3_000  # generator "days" squeezed to 50 min: every liquidation lands inside the 7-day claim window
)


# Scenario kinds that a trader can file on chain at any time (the ones left out depend on filing times or on a
# policy the contract itself refuses: outside coverage, expired window, no remaining coverage).
OKX_KINDS = (
    "full_liquidation",
    "partial_liquidation",
    "adl",
    "normal_close",
    "liquidation_without_loss",
    "order_of_other_account",
    "unknown_order",
)
BINANCE_KINDS = tuple(k for k in OKX_KINDS if k != "partial_liquidation")
BYBIT_KINDS = OKX_KINDS  # order/history's createType tells a laddered (partial) liquidation from a takeover
APPROVING = {"full_liquidation", "partial_liquidation"}


@contextlib.contextmanager
def _generator_clock(anchor: int) -> Iterator[Any]:
    from keeper.sim import generator

    saved = generator.DAY
    generator.DAY = DAY_SCALE
    try:
        yield generator
    finally:
        generator.DAY = saved


GOLDEN_FRACTION = 0.6180339887498949


def exchange_of(index: int, binance_share: float, bybit_share: float) -> str:
    """The exchange of claim ``index``: the shares evenly spread along the claims (a low-discrepancy sequence,
    so that any prefix of the workload has about the same mix)."""
    position = (index * GOLDEN_FRACTION) % 1.0
    if position < binance_share:
        return "binance"
    return "bybit" if position < binance_share + bybit_share else "okx"


def generate_workload(
    count: int,
    seed: int,
    anchor: int,
    okx_accounts: int,
    binance_accounts: int,
    binance_share: float,
    bybit_accounts: int = 0,
    bybit_share: float = 0.0,
) -> Any:
    """The simulator's generator with a chosen number of accounts and exchange mix (``binance_share`` and
    ``bybit_share`` of the claims, OKX the rest); kinds weighted as the generator weights them (approvals
    4 : 1)."""
    if binance_share + bybit_share > 1:
        raise ValueError(f"binance_share {binance_share} + bybit_share {bybit_share} is more than 1")
    kinds_of = {"okx": OKX_KINDS, "binance": BINANCE_KINDS, "bybit": BYBIT_KINDS}
    with _generator_clock(anchor) as generator:

        class BenchGenerator(generator.ScenarioGenerator):  # type: ignore[misc, name-defined]
            def generate(self, count: int) -> Any:
                for _ in range(okx_accounts):
                    self._account("okx")
                for _ in range(binance_accounts if binance_share > 0 else 0):
                    self._account("binance")
                for _ in range(bybit_accounts if bybit_share > 0 else 0):
                    self._account("bybit")
                for index in range(count):
                    exchange = exchange_of(index, binance_share, bybit_share)
                    kinds = kinds_of[exchange]
                    weights = [4 if k in APPROVING else 1 for k in kinds]
                    self._scenario(exchange, self.rng.choices(kinds, weights=weights)[0])
                return self.scenario_file()

        return BenchGenerator(seed, anchor=anchor).generate(count)
