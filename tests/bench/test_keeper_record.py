"""What a keeper bench run records of the keeper's own limits (bench/keeper.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.keeper import keeper_weight_window  # noqa: E402
from keeper.settings import KeeperSettings  # noqa: E402


def test_keeper_weight_window__shipped_settings__limit_less_margin_per_minute() -> None:
    assert keeper_weight_window(KeeperSettings(_env_file=None)) == {"limit": 2_300, "period_seconds": 60.0}


def test_keeper_weight_window__operator_settings__follows_them() -> None:
    settings = KeeperSettings(
        _env_file=None, binance_weight_limit_per_minute=1_200, binance_weight_safety_margin=0
    )

    assert keeper_weight_window(settings) == {"limit": 1_200, "period_seconds": 60.0}
