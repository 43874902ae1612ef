"""Reason codes shared with the contract's ``uint16 reasonCode``.

The numbers are part of the on-chain interface: never renumber, only append.
"""

from __future__ import annotations

from enum import IntEnum


class ReasonCode(IntEnum):
    """Why a claim was approved or rejected (one value per on-chain verdict)."""

    APPROVED = 0
    """A covered forced liquidation with a positive payout."""
    NOT_LIQUIDATED = 1
    """The order exists but was neither a forced liquidation nor an ADL."""
    ADL_NOT_COVERED = 2
    """The order was an auto-deleveraging close and the policy does not cover ADL."""
    ORDER_NOT_FOUND = 3
    """The exchange does not know the order for this account and instrument."""
    UNKNOWN_ACCOUNT = 4
    """No credentials are configured for the claim's accountRef."""
    ACCOUNT_MISMATCH = 5
    """The account or the evidence belongs to another exchange or order than the claim names."""
    INSTRUMENT_MISMATCH = 6
    """The order traded another instrument than the claim names."""
    OUTSIDE_COVERAGE = 7
    """The liquidation happened outside the trader's coverage period."""
    CLAIM_WINDOW_EXPIRED = 8
    """The claim was filed more than the claim window after the liquidation (or before it)."""
    NO_LOSS = 9
    """The liquidation did not lose money once PnL, fees and penalty are added up."""
    ZERO_PAYOUT = 10
    """Every cap leaves nothing to pay (e.g. no remaining coverage)."""
    GUARDIAN_VETO = 100
    """Set by a human guardian on chain; the policy never returns it."""
