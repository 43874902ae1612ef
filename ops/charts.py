"""The report's PNG charts, drawn with matplotlib's Agg backend (no display needed, safe in CI)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported: never try to open a window

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ops.report import Report

CHART_FILES = ("verdicts_by_reason.png", "payouts_over_time.png", "pool_balance.png")


def _units(amount: int, decimals: int) -> float:
    return float(amount) / float(10**decimals)  # a float is fine on a chart axis


def _when(timestamp: int) -> float:
    """Matplotlib's date number: days since its default epoch, 1970-01-01 UTC (shown as dates by
    `xaxis_date`); computed directly because `date2num` is untyped."""
    return timestamp / 86_400


def _save(figure: Figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)


def verdicts_by_reason(report: Report, path: Path) -> None:
    counts: dict[str, int] = {}
    for claim in report.claims:
        if claim.reason is not None:
            counts[claim.reason] = counts.get(claim.reason, 0) + 1
    figure, axes = plt.subplots(figsize=(8, 4.5))
    if counts:
        names = sorted(counts, key=lambda name: (-counts[name], name))
        colours = ["tab:green" if name == "approved" else "tab:red" for name in names]
        axes.bar(names, [counts[name] for name in names], color=colours)
        axes.tick_params(axis="x", rotation=30)
    else:
        _empty(axes, "no verdicts in this period")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of claims: no 0.2 ticks
    axes.set_title("Verdicts by reason")
    axes.set_ylabel("claims")
    _save(figure, path)


def payouts_over_time(report: Report, path: Path) -> None:
    paid = sorted((c.paid_at, c.payout) for c in report.claims if c.paid_at is not None)
    figure, axes = plt.subplots(figsize=(8, 4.5))
    if paid:
        total = 0
        times, totals = [], []
        for when, amount in paid:
            total += amount
            times.append(_when(when))
            totals.append(_units(total, report.decimals))
        axes.step(times, totals, where="post", marker="o")
        axes.xaxis_date()
        figure.autofmt_xdate()
    else:
        _empty(axes, "no payouts in this period")
    axes.set_title("Payouts over time (cumulative)")
    axes.set_ylabel(report.symbol)
    _save(figure, path)


def pool_balance(report: Report, path: Path) -> None:
    figure, axes = plt.subplots(figsize=(8, 4.5))
    if report.pool:
        times = [_when(p.timestamp) for p in report.pool]
        free = [_units(p.free, report.decimals) for p in report.pool]
        reserved = [_units(p.reserved, report.decimals) for p in report.pool]
        axes.stackplot(times, free, reserved, labels=["free", "reserved"], step="post")
        axes.legend(loc="upper left")
        axes.xaxis_date()
        figure.autofmt_xdate()
    else:
        _empty(axes, "no pool activity in this period")
    axes.set_title("Pool: free vs reserved")
    axes.set_ylabel(report.symbol)
    _save(figure, path)


def write_charts(report: Report, directory: Path) -> list[Path]:
    paths = [directory / name for name in CHART_FILES]
    verdicts_by_reason(report, paths[0])
    payouts_over_time(report, paths[1])
    pool_balance(report, paths[2])
    return paths
