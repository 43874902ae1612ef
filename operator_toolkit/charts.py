"""The report's PNG charts, drawn with matplotlib's Agg backend (no display needed, safe in CI)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported: never try to open a window

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from operator_toolkit.report import PoolPoint, Report

CHART_FILES = ("verdicts_by_reason.png", "payouts_over_time.png", "pool_balance.png")


def _units(amount: int, decimals: int) -> float:
    return float(amount) / float(10**decimals)  # a float is fine on a chart axis


def _when(timestamp: int) -> float:
    """Matplotlib's date number: days since its default epoch, 1970-01-01 UTC (shown as dates by
    `xaxis_date`); computed directly because `date2num` is untyped."""
    return timestamp / 86_400


def svg_text(figure: Figure) -> str:
    """The figure as an SVG document (the console serves it), the figure closed."""
    out = io.StringIO()
    figure.tight_layout()
    figure.savefig(out, format="svg")
    plt.close(figure)
    return out.getvalue()


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


def _time_limits(axes: Axes, timestamps: list[int]) -> None:
    """The x-axis spans the data plus a margin (5% of the span, at least 30 minutes a side), so one event is a
    point in a short window, not a dot on matplotlib's default multi-year axis for a single date."""
    first, last = min(timestamps), max(timestamps)
    margin = max((last - first) * 0.05, 1_800)
    axes.set_xlim(_when(int(first - margin)), _when(int(last + margin)))
    axes.xaxis_date()


def _mark_events(axes: Axes, marks: list[tuple[int, str]]) -> None:
    """A dotted vertical line and a label at the top for each (timestamp, text)."""
    for when, text in marks:
        axes.axvline(_when(when), color="grey", linestyle=":", linewidth=1)
        axes.annotate(
            text,
            (_when(when), 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -4),
            textcoords="offset points",
            rotation=90,
            va="top",
            fontsize=7,
            color="dimgrey",
        )


def payouts_figure(report: Report) -> Figure:
    """Cumulative payouts from 0, a step per payout, each marked with its claim id; y from 0 to the total."""
    paid = sorted((c.paid_at, c.payout, c.claim_id) for c in report.claims if c.paid_at is not None)
    figure, axes = plt.subplots(figsize=(8, 4.5))
    if paid:
        start = paid[0][0] - max((paid[-1][0] - paid[0][0]) * 0.05, 1_800)
        times, totals, total = [_when(int(start))], [0.0], 0
        for when, amount, _ in paid:
            total += amount
            times.append(_when(when))
            totals.append(_units(total, report.decimals))
        axes.step(times, totals, where="post", marker="o")
        _time_limits(axes, [int(start), *(when for when, _, _ in paid)])
        axes.set_ylim(0, max(totals[-1] * 1.1, 1e-9))
        _mark_events(axes, [(when, f"#{claim_id}") for when, _, claim_id in paid])
        figure.autofmt_xdate()
    else:
        _empty(axes, "no payouts in this period")
    axes.set_title("Payouts over time (cumulative)")
    axes.set_ylabel(report.symbol)
    return figure


def pool_figure(report: Report) -> Figure:
    return pool_history_figure(report.pool, report.symbol, report.decimals)


def pool_history_figure(pool: Sequence[PoolPoint], symbol: str, decimals: int) -> Figure:
    """Free and reserved stacked (their top is the pool's total), y-range from the data so that a withdrawal
    of a few percent is visible; deposits, withdrawals, verdicts and payouts marked."""
    figure, axes = plt.subplots(figsize=(8, 4.5))
    if pool:
        times = [_when(p.timestamp) for p in pool]
        free = [_units(p.free, decimals) for p in pool]
        reserved = [_units(p.reserved, decimals) for p in pool]
        axes.stackplot(times, free, reserved, labels=["free", "reserved"], step="post")
        axes.legend(loc="lower left")
        totals = [f + r for f, r in zip(free, reserved, strict=True)]
        low, high = min(min(free), min(totals)), max(totals)
        margin = max((high - low) * 0.15, high * 0.005, 1.0)
        axes.set_ylim(max(low - margin, 0.0), high + margin)
        _time_limits(axes, [p.timestamp for p in pool])
        _mark_events(axes, [(p.timestamp, ", ".join(p.events)) for p in pool if p.events])
        figure.autofmt_xdate()
    else:
        _empty(axes, "no pool activity in this period")
    axes.set_title("Pool: free vs reserved")
    axes.set_ylabel(symbol)
    return figure


def payouts_over_time(report: Report, path: Path) -> None:
    _save(payouts_figure(report), path)


def pool_balance(report: Report, path: Path) -> None:
    _save(pool_figure(report), path)


def write_charts(report: Report, directory: Path) -> list[Path]:
    paths = [directory / name for name in CHART_FILES]
    verdicts_by_reason(report, paths[0])
    payouts_over_time(report, paths[1])
    pool_balance(report, paths[2])
    return paths
