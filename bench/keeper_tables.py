"""The keeper bench's markdown tables, from the runs' result dicts (the `RESULT` lines of bench/keeper.py)."""

from __future__ import annotations

from typing import Any

from bench.common import markdown_table


def percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _mb(value: float) -> str:
    return f"{value / 2**20:,.0f}"


def _s(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def tables(results: list[dict[str, Any]]) -> str:
    out = [
        "## Keeper throughput against the rate-limit ceiling (one run, anvil + simulator, 50 ms latency)\n"
    ]
    rows = []
    for r in results:
        c = r["ceiling"]
        rows.append(
            [
                r["label"],
                r["claims"],
                f"{r['workers']} / {r['batch']}",
                f"{r['throughput_claims_per_second']:.2f}",
                f"{c['claims_per_second']:.2f}" if c["claims_per_second"] else "",
                _s(r["ceiling_ratio"]),
                c["binding_key"].split(" [")[0],
                _s(r["latency"]["p50_seconds"]),
                _s(r["latency"]["p95_seconds"]),
                _mb(r["rss"]["peak_phase1_bytes"]),
                r["transactions"]["verify"],
                r["transactions"]["payout"],
                f"{r['gas']['keeper_per_claim']:,.0f}",
                f"{r['gas']['end_to_end_per_claim']:,.0f}",
            ]
        )
    headers = [
        "run",
        "claims",
        "workers / batch",
        "claims/s",
        "ceiling claims/s",
        "ratio to ceiling",
        "binding limit",
        "latency p50 s",
        "latency p95 s",
        "peak RSS MiB",
        "verdict txs",
        "payout txs",
        "keeper gas / claim",
        "gas / claim incl. filing",
    ]
    out.append(markdown_table(headers, rows))
    by_label = {r["label"]: r for r in results}
    main, single = by_label.get("batched"), by_label.get("c1-b1")
    if main and single:
        speedup = main["throughput_claims_per_second"] / single["throughput_claims_per_second"]
        out.append(f"\nbatched / concurrency-1-batch-1 throughput: {speedup:.2f}x (same workload, same run)")
    out.append("\n## Where the requests and reads go (backlog phase)\n")
    rows = []
    for r in results:
        c = r["ceiling"]
        per_claim = ", ".join(f"{k.split(' ', 1)[1]} {v:.2f}" for k, v in c["requests_per_claim"].items())
        reads = r["rpc_reads"].get("eth_call", 0) / (r["claims"] + r["latency"]["of"])
        steps = r["step_seconds"]
        waited = steps.get("exchange_wait", 0)
        rows.append(
            [
                f"{r['label']} {r['claims']}",
                per_claim,
                f"{c['binance_weight_per_claim']:.1f}",
                r["statuses"].get("429", 0),
                f"{reads:.1f}",
                f"{waited:.1f}",
                f"{steps.get('decide', 0) - waited - steps.get('post_overlapped', 0):.1f}",
                f"{steps.get('post_overlapped', 0):.1f}",
                f"{steps.get('post', 0) + steps.get('pay', 0):.1f}",
            ]
        )
    headers = [
        "run",
        "exchange requests / claim",
        "Binance weight / claim",
        "429 replies",
        "contract reads / claim",
        "waiting on exchange s",
        "decide s, other",
        "posts overlapped s",
        "post + pay steps s",
    ]
    out.append(markdown_table(headers, rows))
    out.append("\n## Scale curve (batched keeper)\n")
    scale = sorted((r for r in results if r["label"].startswith("batched")), key=lambda r: r["claims"])
    rows = []
    base = scale[0] if scale else None
    for r in scale:
        assert base is not None
        time_ratio = (r["backlog_seconds"] / base["backlog_seconds"]) / (r["claims"] / base["claims"])
        growth = r["rss"]["peak_phase1_bytes"] - r["rss"]["baseline_bytes"]
        rows.append(
            [
                r["claims"],
                f"{r['backlog_seconds']:.1f}",
                f"{r['backlog_seconds'] / r['claims'] * 1000:.1f}",
                f"{time_ratio:.2f}",
                _mb(r["rss"]["peak_phase1_bytes"]),
                f"{growth / 2**20:,.1f}",
                f"{r['db_bytes_per_claim']:,.0f}",
                f"{r['audit_bytes_per_claim']:,.0f}",
                ", ".join(f"{k} {v:.1f}" for k, v in r["step_seconds"].items()),
            ]
        )
    headers = [
        "claims",
        "backlog s",
        "ms / claim",
        "time per claim vs smallest",
        "peak RSS MiB",
        "RSS growth in keeper MiB",
        "DB bytes / claim",
        "audit bytes / claim",
        "seconds per step (backlog)",
    ]
    out.append(markdown_table(headers, rows))
    return "\n".join(out)
