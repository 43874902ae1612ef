"""The gas benchmark's measuring function on tiny batches, so `bench/gas.py` cannot rot unnoticed.

It runs on the session's network (ape's isolation reverts what it deploys); the figures themselves are not
checked here, only that every operation is measured and every floor is in place.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import ape

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gas import _measure, table, targets  # noqa: E402


def test_gas_bench__tiny_batches__every_operation_measured_against_its_floor(chain: Any) -> None:
    report = _measure(ape, sizes=(1, 2), whitelist_sizes=(1, 2))

    measured = {(row.operation, row.n) for row in report.rows}
    for operation in ("postVerifications", "executePayouts", "addToWhitelist"):
        assert {(operation, 1), (operation, 2)} <= measured
    for operation in ("submitClaim", "postVerification", "executePayout", "deposit", "propose", "confirm"):
        assert (operation, 1) in measured
    assert all(row.gas > 21_000 for row in report.rows)
    floored = [row for row in report.rows if row.floor_name is not None]
    assert len(floored) == len(report.rows) - 3  # propose, confirm, execute have no floor
    assert all(row.floor_gas and row.floor_gas > 21_000 // row.floor_n for row in floored)
    assert report.max_batch_size == 200
    assert set(report.marginal["executePayouts"]) == {2}
    assert "| executePayouts | 2 |" in table(report)
    assert [name for name, *_ in targets(report, n=2)] == [
        "executePayouts per claim (batch of 2) <= 0.8 x floor",
        "postVerifications per claim (batch of 2) <= 1.2 x floor",
        "submitClaim <= 1.15 x floor",
    ]
