"""Names for the contract's small integers: claim statuses, exchange ids, reason codes."""

from __future__ import annotations

from keeper.reasons import ReasonCode

# ILeverageGuard.ClaimStatus, in enum order.
CLAIM_STATUSES = ("None", "Pending", "Approved", "Rejected", "Paid")
# LeverageGuard.EXCHANGE_* constants.
EXCHANGES = {"okx": 1, "binance": 2, "bybit": 3}


def exchange_name(number: int) -> str:
    return next((name for name, value in EXCHANGES.items() if value == number), f"exchange-{number}")


def reason_name(code: int) -> str:
    """The keeper's reason code name in lower case (shared with the contract's uint16 reasonCode)."""
    try:
        return ReasonCode(code).name.lower()
    except ValueError:
        return f"reason-{code}"
