"""Budget-aware admission: a pass sends to a weight-limited exchange only the claims its remaining budget
covers; the others wait for a later pass, still due, without an attempt counted against them.

Binance counts request weight per IP per minute (2,400, less the keeper's safety margin). A pass that hands
the whole backlog to the verifier leaves claims asleep in the limiter past ``LG_LIMITER_MAX_WAIT_SECONDS``,
and those come back deferred as if Binance had refused them, then sit out a back-off. Admitting by budget
keeps them recorded and due instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field


class ClaimCost(BaseModel):
    """The worst-case units one claim takes from one budget (a limiter key, e.g. ``binance:weight-1m``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget: str
    weight: int = Field(ge=1)


class BudgetUse(BaseModel):
    """One budget's figures for a pass."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    remaining: int = Field(ge=0)
    """Units left when the pass began."""
    reserved: int = Field(ge=0)
    """Units the admitted claims may take (their worst case)."""
    admitted: int = Field(ge=0)
    waiting: int = Field(ge=0)


class Admission(BaseModel):
    """Which of a pass's claims go to the verifier now (``admitted``) and which wait for a later pass
    (``waiting``): indexes into the requests, each in request order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    admitted: list[int]
    waiting: list[int]
    budgets: dict[str, BudgetUse] = Field(default_factory=dict)
    """Per budget that any claim of the pass draws on."""

    @property
    def reason(self) -> str:
        """Why claims wait, for the log, e.g.
        ``binance:weight-1m: 100 left covers 1 claim(s) (56 reserved), 2 wait``."""
        return "; ".join(
            f"{budget}: {use.remaining} left covers {use.admitted} claim(s) ({use.reserved} reserved), "
            f"{use.waiting} wait"
            for budget, use in sorted(self.budgets.items())
            if use.waiting
        )


class UnknownBudgetError(KeyError):
    """A claim names a budget whose remaining units were not given."""

    def __init__(self, index: int, budget: str) -> None:
        super().__init__(f"claim {index} draws on budget {budget!r}, which has no remaining figure")
        self.index = index
        self.budget = budget


def admit_within_budget(costs: Sequence[ClaimCost | None], remaining: Mapping[str, int]) -> Admission:
    """Admit claims in order while their budget covers their worst case; a claim without a cost (another
    exchange, or one that asks no exchange) is always admitted.

    Within one budget no claim overtakes an earlier one that did not fit: the oldest claims go first, and a
    costly claim is not starved by cheaper ones behind it.
    """
    left = dict(remaining)
    full: set[str] = set()
    admitted: list[int] = []
    waiting: list[int] = []
    uses: dict[str, dict[str, int]] = {}
    for index, cost in enumerate(costs):
        if cost is None:
            admitted.append(index)
            continue
        if cost.budget not in left:
            raise UnknownBudgetError(index, cost.budget)
        use = uses.setdefault(
            cost.budget, {"remaining": remaining[cost.budget], "reserved": 0, "admitted": 0, "waiting": 0}
        )
        if cost.budget in full or cost.weight > left[cost.budget]:
            full.add(cost.budget)
            waiting.append(index)
            use["waiting"] += 1
            continue
        left[cost.budget] -= cost.weight
        admitted.append(index)
        use["reserved"] += cost.weight
        use["admitted"] += 1
    return Admission(
        admitted=admitted,
        waiting=waiting,
        budgets={budget: BudgetUse(**figures) for budget, figures in uses.items()},
    )
