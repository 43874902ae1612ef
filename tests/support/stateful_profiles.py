"""Hypothesis profiles of the stateful suite (tests/contract/test_stateful.py).

`stateful-default` fits inside `make test`; `HYPOTHESIS_PROFILE=deep` selects `stateful-deep` (10x the steps,
random seed), `HYPOTHESIS_PROFILE=quick` a short run without shrinking for working on the suite. The profiles
are only registered, never loaded globally, so other hypothesis tests keep theirs.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_COMMON = settings(
    # A chain step takes tens of milliseconds; hypothesis's per-example deadline is meaningless here.
    deadline=None,
    # No .hypothesis/ litter; a failure prints the example and a reproduction blob instead.
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

settings.register_profile(
    "stateful-default",
    _COMMON,
    max_examples=40,
    stateful_step_count=30,
    # The same examples on every CI run: a red build is reproducible and never flaky.
    derandomize=True,
)
settings.register_profile(
    "stateful-deep",
    _COMMON,
    max_examples=100,
    stateful_step_count=75,
)
# For working on the suite itself: a few examples, no shrinking.
settings.register_profile(
    "stateful-quick",
    _COMMON,
    max_examples=4,
    stateful_step_count=30,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
)


def stateful_settings() -> settings:
    """`stateful-<HYPOTHESIS_PROFILE>` for HYPOTHESIS_PROFILE=deep or quick, `stateful-default` otherwise."""
    requested = os.environ.get("HYPOTHESIS_PROFILE", "")
    name = f"stateful-{requested}" if requested in ("deep", "quick") else "stateful-default"
    return settings.get_profile(name)
