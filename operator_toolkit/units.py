"""Human input to on-chain integers and back: token amounts, durations, timestamps, pause flags, roles.

Signers type "2500 USDT", "6h", "claims,payouts" or "validator"; the chain wants base units, seconds, bit
masks and bytes32 role ids. Every parser raises `click.BadParameter` naming the offending value, so a typo is
one clear line and never a transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

import click

from keeper.interface import ReasonCode

# The symbol needs a space before it, so "1e6" is refused instead of read as 1 of a token called "e6".
_AMOUNT = re.compile(
    r"^\s*(?P<number>[0-9][0-9_,]*(?:\.[0-9]+)?|\.[0-9]+)(?:\s+(?P<symbol>[A-Za-z][A-Za-z0-9.]*))?\s*$"
)
_DURATION = re.compile(r"^\s*(?P<number>[0-9]+)\s*(?P<unit>s|m|h|d|w)?\s*$")
_DURATION_UNITS = {None: 1, "s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}


def parse_amount(text: str, decimals: int, symbol: str) -> int:
    """'2500 USDT', '2,500', '0.5 usdt' -> base units. The symbol, if given, must be the token's.

    Integer arithmetic on the digits (no Decimal context): exact for any uint256."""
    match = _AMOUNT.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not an amount like '2500 {symbol}' or '0.5'")
    given = match.group("symbol")
    if given is not None and given.upper() != symbol.upper():
        raise click.BadParameter(f"{text!r} is in {given}, but the pool's token is {symbol}")
    whole, _, fraction = match.group("number").replace(",", "").replace("_", "").partition(".")
    fraction = fraction.rstrip("0")
    if len(fraction) > decimals:
        raise click.BadParameter(f"{text!r} has more than {decimals} decimals ({symbol} has {decimals})")
    scale: int = 10**decimals
    return int(whole or "0") * scale + int(fraction.ljust(decimals, "0") or "0")


def require_positive_amount_text(text: str) -> str:
    """`text` unchanged if it reads as an amount above zero ('1200 USDT', '0.5'); checked without the
    token's decimals or symbol (no RPC), which `parse_amount` then checks. Negative amounts never match."""
    match = _AMOUNT.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not an amount like '1200 USDT' or '0.5'")
    if not match.group("number").replace(",", "").replace("_", "").replace(".", "").strip("0"):
        raise click.BadParameter(f"{text!r} is zero: the amount must be more than 0")
    return text


def units_text(amount: int, decimals: int, *, grouping: bool = False) -> str:
    """Base units -> exact token units, trailing zeros dropped: 2500500000 -> '2500.5' ('2,500.5' grouped)."""
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**decimals)
    text = f"{whole:,}" if grouping else str(whole)
    digits = str(fraction).rjust(decimals, "0").rstrip("0") if decimals else ""
    return f"{sign}{text}.{digits}" if digits else f"{sign}{text}"


def format_amount(amount: int, decimals: int, symbol: str) -> str:
    """Base units -> '2,500.5 USDT' (exact, no float)."""
    return f"{units_text(amount, decimals, grouping=True)} {symbol}"


def parse_duration(text: str) -> int:
    """'3600', '90m', '6h', '2d', '1w' -> seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not a duration like '3600', '90m', '6h' or '2d'")
    return int(match.group("number")) * _DURATION_UNITS[match.group("unit")]


def format_duration(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit} ({seconds} s)"
    return f"{seconds} s"


def format_countdown(ready_at: int, now: int) -> str:
    """A proposal's readiness: 'not scheduled' (readyAt 0), 'ready', or 'ready in 47h 59m' (whole hours and
    minutes left; the seconds alone under a minute)."""
    if ready_at == 0:
        return "not scheduled"
    left = ready_at - now
    if left <= 0:
        return "ready"
    if left < 60:
        return f"ready in {left}s"
    hours, rest = divmod(left, 3_600)
    return f"ready in {hours}h {rest // 60}m"


def parse_timestamp(text: str) -> int:
    """A unix time, or an ISO date/datetime (UTC unless it says otherwise) -> unix seconds."""
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a unix time nor an ISO date like 2026-12-31") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def format_timestamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def parse_flags(text: str, flags: Mapping[str, int]) -> int:
    """'claims,payouts', 'all' or '5' -> a bit mask; `flags` maps lower-case names to bits."""
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    mask = 0
    for part in stripped.split(","):
        name = part.strip().lower()
        if name not in flags:
            known = ", ".join(sorted(flags))
            raise click.BadParameter(f"{part.strip()!r} is not a pause flag (known: {known})")
        mask |= flags[name]
    return mask


def format_flags(mask: int, flags: Mapping[str, int]) -> str:
    """A bit mask -> 'claims|payouts' ('none' for 0); single bits only, so 'all' never hides which."""
    names = [name for name, bit in sorted(flags.items(), key=lambda item: item[1]) if bit & (bit - 1) == 0]
    parts = [name for name in names if mask & flags[name]]
    return "|".join(parts) if parts else "none"


def parse_role(text: str, roles: Mapping[str, bytes]) -> bytes:
    """'validator', 'VALIDATOR_ROLE' or a 0x bytes32 -> the role id; `roles` maps upper-case names to ids."""
    stripped = text.strip()
    if re.fullmatch(r"0x[0-9a-fA-F]{64}", stripped):
        return bytes.fromhex(stripped[2:])
    name = stripped.upper().removesuffix("_ROLE")
    if name not in roles:
        raise click.BadParameter(f"{text!r} is not a role (known: {', '.join(sorted(roles))})")
    return roles[name]


def parse_reason(text: str, codes: Mapping[str, int] | None = None) -> int:
    """'100', 'guardian_veto' or 'GUARDIAN-VETO' -> a uint16 reason code; names are keeper.interface's
    ReasonCode unless `codes` (lower-case name -> code) is given."""
    if codes is None:
        codes = {code.name.lower(): int(code) for code in ReasonCode}
    stripped = text.strip()
    if stripped.isdigit():
        code = int(stripped)
        if code > 0xFFFF:
            raise click.BadParameter(f"{text!r} is not a reason code (0..65535)")
        return code
    name = stripped.lower().replace("-", "_")
    if name not in codes:
        raise click.BadParameter(f"{text!r} is not a reason code (known: {', '.join(sorted(codes))})")
    return codes[name]


def role_name(role: bytes, roles: Mapping[str, bytes]) -> str:
    for name, value in roles.items():
        if value == role:
            return name
    return "0x" + role.hex()
