"""Writing the report: JSON (every record, amounts in base units) and a CSV summary (token units, exact)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from operator_toolkit.report import ClaimRecord, Report
from operator_toolkit.units import units_text

SUMMARY_COLUMNS = ("dimension", "key", "claims", "claimed_loss", "payout")


def write_json(report: Report, path: Path) -> None:
    path.write_text(json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n")


def _units(amount: int, decimals: int) -> str:
    """Exact token units without exponent or thousands separators, so spreadsheets read them as numbers."""
    return units_text(amount, decimals)


def summary_rows(report: Report) -> list[dict[str, str]]:
    """Claims counted and summed by status, by exchange and by reason (decided claims only)."""
    dimensions: dict[str, Callable[[ClaimRecord], str | None]] = {
        "status": lambda c: c.status,
        "exchange": lambda c: c.exchange,
        "reason": lambda c: c.reason,
    }
    rows: list[dict[str, str]] = []
    for dimension, key_of in dimensions.items():
        groups: dict[str, list[ClaimRecord]] = {}
        for claim in report.claims:
            key = key_of(claim)
            if key is not None:
                groups.setdefault(key, []).append(claim)
        for key in sorted(groups):
            claims = groups[key]
            rows.append(
                {
                    "dimension": dimension,
                    "key": key,
                    "claims": str(len(claims)),
                    "claimed_loss": _units(sum(c.claimed_loss for c in claims), report.decimals),
                    "payout": _units(sum(c.payout for c in claims), report.decimals),
                }
            )
    return rows


def write_summary_csv(report: Report, path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(summary_rows(report))
