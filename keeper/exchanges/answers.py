"""The exchange's answers, byte for byte: recorded at first fetch, stored beside the decision, replayed to
re-derive it.

An answer is keyed by its *unsigned* request (``GET /path?query`` without timestamp, recvWindow or
signature): the same request always has the same key, so a replay needs no credentials and no clock.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from keeper.exchanges.errors import MalformedResponseError
from keeper.exchanges.transport import RawResponse, SignRequest


class RawAnswer(BaseModel):
    """One exchange answer as received: status, the headers that matter, and the exact body."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request: str = Field(description="'GET /path?query' as the adapter built it, before signing.")
    status: int
    body: bytes
    observed_at_ms: int = Field(ge=0, description="The keeper's (server-corrected) clock when it arrived.")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def digest(self) -> dict[str, object]:
        """What the evidence record commits to for this answer."""
        return {
            "request": self.request,
            "status": self.status,
            "observed_at_ms": self.observed_at_ms,
            "sha256": self.sha256,
        }

    def to_bundle(self) -> dict[str, object]:
        """JSON-ready, the body base64 (exact bytes, whatever their encoding)."""
        return {
            "request": self.request,
            "status": self.status,
            "observed_at_ms": self.observed_at_ms,
            "body_b64": base64.b64encode(self.body).decode(),
        }

    @classmethod
    def from_bundle(cls, item: Mapping[str, object]) -> RawAnswer:
        body = base64.b64decode(str(item["body_b64"]), validate=True)
        return cls(
            request=str(item["request"]),
            status=int(str(item["status"])),
            body=body,
            observed_at_ms=int(str(item["observed_at_ms"])),
        )

    def compressed(self) -> bytes:
        return zlib.compress(self.body, level=6)

    @staticmethod
    def decompress(blob: bytes) -> bytes:
        return zlib.decompress(blob)


def answer_digests(answers: Iterable[RawAnswer]) -> list[dict[str, object]]:
    return [a.digest() for a in answers]


class AnswerNotRecordedError(LookupError):
    """A replayed adapter asked for something the bundle does not hold: the bundle cannot re-derive it."""

    def __init__(self, request: str) -> None:
        super().__init__(f"the bundle holds no answer to {request}")
        self.request = request


class ReplayTransport:
    """Serves recorded answers to an adapter in place of ``HttpTransport``; the request must match exactly.

    Each recorded answer is served once, in order, so a request asked twice needs two answers.
    """

    exchange: str
    shared = None
    """A replay reuses nothing: each recorded answer is served to the request that read it."""

    def __init__(self, exchange: str, answers: Sequence[RawAnswer]) -> None:
        self.exchange = exchange
        self._pending = list(answers)
        self._first_ms = answers[0].observed_at_ms if answers else 0
        self.served: list[RawAnswer] = []

    def clock(self) -> datetime:
        """The recorded time: when the last served answer arrived (the first one's before any is served), so
        an adapter's retention arithmetic sees the clock it saw on the wire."""
        millis = self.served[-1].observed_at_ms if self.served else self._first_ms
        return datetime.fromtimestamp(millis / 1000, UTC)

    def __repr__(self) -> str:
        return f"ReplayTransport({self.exchange!r}, {len(self._pending)} answers left)"

    def get(
        self,
        path: str,
        query: str,
        sign: SignRequest,
        limiter_key: str,
        weight: int = 1,
    ) -> RawResponse:
        request = request_key(path, query)
        for index, answer in enumerate(self._pending):
            if answer.request == request:
                del self._pending[index]
                self.served.append(answer)
                return RawResponse(f"GET {path}", answer.status, {}, answer.body, request)
        raise AnswerNotRecordedError(request)

    def unused(self) -> list[RawAnswer]:
        return list(self._pending)

    def raise_if_backing_off(self, endpoint: str) -> None:
        """A replay sends nothing, so nothing can make it back off."""

    def save_malformed(self, error: MalformedResponseError) -> MalformedResponseError:
        return error  # a replay writes nothing: the bundle already holds every body


def request_key(path: str, query: str) -> str:
    return f"GET {path}" + (f"?{query}" if query else "")
