"""The scale-out bench's figures and table from a run's raw counts (bench/scale_out.py): per-keeper weight by
simulated IP, the ceiling for that many IPs, the ratio against the one-keeper run."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale_out import ScalePlan, main, result, simulated_ip, table  # noqa: E402

VALIDATORS = ("0xAaAa000000000000000000000000000000000001", "0xBbBb000000000000000000000000000000000002")


def _run(
    keepers: int, seconds: float, decided: tuple[int, ...], weight: tuple[int, ...]
) -> dict[str, object]:
    ips = tuple(simulated_ip(i) for i in range(keepers))
    address_of = {f"k{i}": VALIDATORS[i] for i in range(keepers)}
    decided_by = Counter({VALIDATORS[i].lower(): n for i, n in enumerate(decided)})
    hits: Counter[tuple[str, str]] = Counter(
        {("binance weight", ip): w for ip, w in zip(ips, weight, strict=True)}
    )
    hits[("binance order", "requests")] = sum(decided)  # not weight: left out of it
    plan = ScalePlan(keepers, sum(decided), 4, "postgresql://postgres@127.0.0.1:1/x")
    return result(plan, ips, address_of, decided_by, 0, hits, Counter({200: 5, 429: 1}), seconds)


def test_result__two_keepers__weight_per_keeper_ip_ceiling_for_two_ips_and_no_database_url() -> None:
    run = _run(2, 10.0, (30, 10), (300, 100))

    assert run["keepers"] == {
        "k0": {
            "simulated_ip": "198.51.100.1",
            "claims": 30,
            "binance_weight": 300,
            "binance_weight_per_claim": 10,
        },
        "k1": {
            "simulated_ip": "198.51.100.2",
            "claims": 10,
            "binance_weight": 100,
            "binance_weight_per_claim": 10,
        },
    }
    assert run["binance_weight_per_claim"] == 10
    assert run["ceiling_claims_per_second"] == pytest.approx(2 * 2400 / 60 / 10)
    assert run["claims_per_second"] == 4
    assert "database_url" not in run["plan"]  # type: ignore[operator]


def test_table__one_and_two_keepers__ratio_against_the_one_keeper_run() -> None:
    shown = table([_run(1, 20.0, (40,), (400,)), _run(2, 10.0, (30, 10), (300, 100))])

    lines = shown.splitlines()
    assert lines[0].startswith("| keepers | claims | seconds | claims/s |")
    assert lines[2].endswith("| 1.00x |")
    assert "| 10.00 / 10.00 | 30 / 10 | 1 | 2.00x |" in lines[3]


def test_scale_out_bench__two_keeper_processes_six_claims__each_verdict_once_weight_by_its_keepers_ip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run's child starts an anvil of its own (not the session's: claims move its clock a day on) and
    # its keepers and simulator (~20 s); the PostgreSQL cluster is the session's when one is running.
    monkeypatch.delenv("APE_FOUNDRY_HOST", raising=False)
    out = tmp_path / "scale-out.json"

    assert main(["--keepers", "2", "--claims", "6", "--out", str(out)]) == 0

    (run,) = json.loads(out.read_text())["runs"]
    assert run["plan"]["keepers"] == 2
    assert run["claims_with_two_verdicts"] == 0
    assert run["exit_codes"] == {"k0": 0, "k1": 0}
    keepers = run["keepers"]
    assert [k["simulated_ip"] for k in keepers.values()] == ["198.51.100.1", "198.51.100.2"]
    assert sum(k["claims"] for k in keepers.values()) == 6
    # Every request was made by a keeper through its own listener: no weight on the shared address.
    assert sum(k["binance_weight"] for k in keepers.values()) == run["binance_weight_per_claim"] * 6 > 0
    assert run["binance_weight_elsewhere"] == 0
