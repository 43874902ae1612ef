"""Names for the contract's small integers: claim statuses, exchange ids, reason codes.

The numbers themselves live in ``keeper.interface`` (the one Python copy of the chain's numbers).
"""

from __future__ import annotations

from keeper.interface import ClaimStatus, Exchange, ReasonCode

# ILeverageGuardTypes.ClaimStatus names, indexed by the on-chain value.
CLAIM_STATUSES = tuple(status.label for status in ClaimStatus)
# Lower-case exchange name -> the contract's EXCHANGE_* id.
EXCHANGES = {exchange.slug: int(exchange) for exchange in Exchange}


def exchange_name(number: int) -> str:
    try:
        return Exchange(number).slug
    except ValueError:
        return f"exchange-{number}"


def reason_name(code: int) -> str:
    """The keeper's reason code name in lower case (shared with the contract's uint16 reasonCode)."""
    try:
        return ReasonCode(code).name.lower()
    except ValueError:
        return f"reason-{code}"
