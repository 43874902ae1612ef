"""The limits' arithmetic of the keeper bench (bench/limit_ceiling.py): the steady-state ceiling, the least
time a run's own requests allow from its start (sliding windows and Binance's clock minutes), the whole
minutes' weight, the simulator counting Binance weight per clock minute, and the weights per claim at which a
sliding window alone lets a large run's time per claim stay within a bar of a small run's."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.limit_ceiling import (  # noqa: E402
    LimitWindow,
    WeightBand,
    ceiling,
    full_minutes,
    ratio_at,
    ratio_bands,
)
from bench.sim_process import BINANCE_WEIGHT, _recording_sim_class  # noqa: E402
from keeper.sim.scenarios import ScenarioFile  # noqa: E402
from keeper.sim.wire import SimLimits  # noqa: E402

MINUTE = 60.0
A_MINUTE_START = 29_000_000 * MINUTE  # a clock minute's first second, in unix seconds


@pytest.mark.parametrize(
    ("units", "least"),
    [(1, 0.0), (60, 0.0), (61, 2.0), (120, 2.0), (121, 4.0), (600, 18.0)],
)
def test_least_seconds__sliding_window__a_limit_now_and_one_more_each_period(
    units: int, least: float
) -> None:
    window = LimitWindow(60, 2.0)

    assert window.least_seconds(units, started_unix=A_MINUTE_START + 17.3) == least


@pytest.mark.parametrize(
    ("offset", "units", "least"),
    [
        (0.0, 2_400, 0.0),  # one budget: at once, wherever in the minute
        (59.0, 2_400, 0.0),
        (0.0, 2_401, 60.0),  # two budgets from the minute's start: the next minute
        (59.0, 2_401, 1.0),  # ... from its last second: the next minute is a second away
        (30.0, 8_735, 150.0),  # four budgets: the third minute after the one the run started in
        (30.0, 86_000, 2_070.0),  # 36 budgets
    ],
)
def test_least_seconds__clock_minute__the_starting_minute_holds_a_whole_budget(
    offset: float, units: int, least: float
) -> None:
    window = LimitWindow(2_400, MINUTE, clock_aligned=True)

    assert window.least_seconds(units, started_unix=A_MINUTE_START + offset) == pytest.approx(least)


def test_ceiling__binance_weight_binds__steady_and_least_time_from_the_start() -> None:
    hits: Counter[tuple[str, str]] = Counter(
        {
            (BINANCE_WEIGHT, "127.0.0.1"): 8_735,
            ("okx trade/fills", "key-1"): 287,
            ("binance order", "requests"): 334,
        }
    )

    result = ceiling(hits, SimLimits(), claims=1_000, started_unix=A_MINUTE_START + 30.0)

    assert result["binding_key"] == "binance weight [127.0.0.1]"
    assert result["min_seconds"] == pytest.approx(8_735 / 40)  # 2,400 per minute
    assert result["claims_per_second"] == pytest.approx(1_000 / (8_735 / 40))
    assert result["least_binding_key"] == "binance weight [127.0.0.1]"
    assert result["least_seconds"] == pytest.approx(150.0)
    assert result["binance_weight_per_claim"] == pytest.approx(8.735)
    assert result["requests_per_claim"] == {"binance order": 0.334, "okx trade/fills": 0.287}


def test_ceiling__no_start_given__no_least_time() -> None:
    result = ceiling(Counter({(BINANCE_WEIGHT, "ip"): 10}), SimLimits(), claims=1)

    assert (result["least_seconds"], result["least_binding_key"]) == (None, None)


def test_ceiling__sliding_key_binds_the_least_time() -> None:
    # 10 fills-history requests per 2 s: 25 need two more windows; 100 weight fit Binance's first minute
    hits: Counter[tuple[str, str]] = Counter(
        {(BINANCE_WEIGHT, "ip"): 100, ("okx trade/fills-history", "key-1"): 25}
    )

    result = ceiling(hits, SimLimits(), claims=25, started_unix=A_MINUTE_START + 59.5)

    assert result["least_binding_key"] == "okx trade/fills-history [key-1]"
    assert result["least_seconds"] == pytest.approx(4.0)


def test_full_minutes__only_minutes_wholly_inside_the_run__zero_for_an_idle_one() -> None:
    first = int(A_MINUTE_START // 60)
    spent = {first: 2_400, first + 1: 2_300, first + 3: 2_280, first + 4: 900}

    minutes = full_minutes(spent, started_unix=A_MINUTE_START + 20.0, ended_unix=A_MINUTE_START + 4 * 60 + 15)

    assert minutes == [2_300, 0, 2_280]


def test_recording_sim__binance_weight_counted_per_clock_minute_of_the_simulator() -> None:
    now = [A_MINUTE_START + 59.0]
    sim = _recording_sim_class()(ScenarioFile(accounts=[]), clock=lambda: now[0])

    sim.route("/fapi/v1/time", {}, "10.0.0.1")
    sim.route("/fapi/v1/income?incomeType=INSURANCE_CLEAR", {}, "10.0.0.1")
    now[0] += 2.0
    sim.route("/fapi/v1/forceOrders?symbol=BTCUSDT", {}, "10.0.0.1")
    sim.route("/fapi/v1/time", {}, "10.0.0.2")

    minute = int(A_MINUTE_START // 60)
    assert dict(sim.binance_minutes) == {
        ("10.0.0.1", minute): 31,
        ("10.0.0.1", minute + 1): 20,
        ("10.0.0.2", minute + 1): 1,
    }
    assert sim.hits[(BINANCE_WEIGHT, "10.0.0.1")] == 51


KEEPER_WEIGHT = LimitWindow(2_300, MINUTE)  # the keeper's Binance limiter: 2,400 less its margin of 100


def test_ratio_at__measured_burst_weights__the_sliding_window_alone_gives_1_27x() -> None:
    # The burst of 3 Dec: 8,955 weight for 1,000 claims (4 windows: 180 s), 88,576 for 10,000 (39: 2,280 s)
    assert ratio_at(KEEPER_WEIGHT, (1_000, 8_955), (10_000, 88_576)) == pytest.approx(2_280 / 1_800)


def test_ratio_at__small_run_fits_one_window__none() -> None:
    assert ratio_at(KEEPER_WEIGHT, (1_000, 2_300), (10_000, 23_000)) is None


def test_ratio_bands__keeper_limit_and_the_burst_bar__met_only_in_bands_below_20_7() -> None:
    bands = ratio_bands(KEEPER_WEIGHT, 1_000, 10_000, 1.10)

    assert bands[:-1] == [
        WeightBand(above, up_to)
        for above, up_to in [
            (2.3, 2.76),
            (4.6, 5.29),
            (6.9, 7.82),
            (9.2, 10.35),
            (11.5, 12.88),
            (13.8, 15.41),
            (16.1, 17.94),
            (18.4, 20.47),
        ]
    ]
    assert bands[-1] == WeightBand(20.7, None)
    assert [str(bands[2]), str(bands[-1])] == ["(6.90, 7.82]", "above 20.70"]


def test_ratio_bands__every_weight_on_a_fine_grid__in_a_band_exactly_when_ratio_at_meets_the_bar() -> None:
    bands = ratio_bands(KEEPER_WEIGHT, 1_000, 10_000, 1.10)
    # Weights of k / 1,000 per claim: k units for 1,000 claims, 10 k for 10,000; band edges in the same units.
    edges = [(round(b.above * 1_000), None if b.up_to is None else round(b.up_to * 1_000)) for b in bands]

    for k in range(2_301, 30_000):
        ratio = ratio_at(KEEPER_WEIGHT, (1_000, k), (10_000, 10 * k))
        in_band = any(above < k and (up_to is None or k <= up_to) for above, up_to in edges)
        assert in_band == (ratio is not None and ratio <= 1.10 + 1e-12), k


@pytest.mark.parametrize(
    ("window", "bar", "message"),
    [
        (LimitWindow(2_400, MINUTE, clock_aligned=True), 1.10, "models a sliding window"),
        (KEEPER_WEIGHT, 1.0, "bands never end"),
    ],
)
def test_ratio_bands__clock_window_or_bar_not_above_1__value_error(
    window: LimitWindow, bar: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ratio_bands(window, 1_000, 10_000, bar)
