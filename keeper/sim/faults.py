"""Fault injection for the simulator: latency, 5xx, 429 bursts, timeouts, truncated or malformed bodies, a
skewed server clock, and 429s without ``Retry-After``."""

from __future__ import annotations

import random
import threading
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class FaultConfig(BaseModel):
    """Rates are probabilities per request; bursts hit the next N requests, then stop."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    latency_ms: int = Field(default=0, ge=0)
    error_5xx_rate: float = Field(default=0.0, ge=0, le=1)
    error_5xx_burst: int = Field(default=0, ge=0)
    rate_limit_burst: int = Field(default=0, ge=0)
    retry_after_seconds: int | None = Field(default=None, ge=0)
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    timeout_seconds: float = Field(default=5.0, ge=0)
    truncated_rate: float = Field(default=0.0, ge=0, le=1)
    malformed_rate: float = Field(default=0.0, ge=0, le=1)
    clock_skew_ms: int = Field(
        default=0, description="The server's clock runs this far ahead of the host's (negative: behind)."
    )
    retry_after_omit_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Binance USD-M does not promise Retry-After on a 429: drop it from this share of them.",
    )
    spare_time_endpoints: bool = Field(
        default=True,
        description="No faults on /api/v5/public/time and /fapi/v1/time, so fault counts stay about the "
        "claim's requests (the keeper reads the time before its first signed request).",
    )
    seed: int = 0


class Fault(StrEnum):
    ERROR_5XX = "5xx"
    RATE_LIMIT = "429"
    TIMEOUT = "timeout"
    TRUNCATED = "truncated"
    MALFORMED = "malformed"


class FaultInjector:
    """Draws the faults of each request from one seeded stream, so runs repeat."""

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self.configure(config)

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._random = random.Random(config.seed)
            self._burst_5xx = config.error_5xx_burst
            self._burst_429 = config.rate_limit_burst

    def omit_retry_after(self) -> bool:
        """Whether this 429 goes out without its Retry-After header."""
        with self._lock:
            rate = self.config.retry_after_omit_rate
            return bool(rate) and self._random.random() < rate

    def draw(self) -> tuple[Fault | None, Fault | None]:
        """(fault replacing the response, fault corrupting the body) for one request."""
        with self._lock:
            c = self.config
            if self._burst_429 > 0:
                self._burst_429 -= 1
                return Fault.RATE_LIMIT, None
            if self._burst_5xx > 0:
                self._burst_5xx -= 1
                return Fault.ERROR_5XX, None
            roll = self._random.random
            if c.timeout_rate and roll() < c.timeout_rate:
                return Fault.TIMEOUT, None
            if c.error_5xx_rate and roll() < c.error_5xx_rate:
                return Fault.ERROR_5XX, None
            if c.truncated_rate and roll() < c.truncated_rate:
                return None, Fault.TRUNCATED
            if c.malformed_rate and roll() < c.malformed_rate:
                return None, Fault.MALFORMED
            return None, None
