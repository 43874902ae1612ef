"""OpenTelemetry tracing of the keeper: the one place that builds its TracerProvider (``configure``, from
``LG_OTEL_*``) and the hooks the pipeline, the verifier, the transport and the chain client call.

The span tree of a pass::

    keeper.pass                                  Pipeline.run_once, main thread
    ├── keeper.claim   lg.claim_id               from a worker taking the claim to its verdict
    │   ├── verify                               worker thread
    │   │   └── GET <path>                       one per HTTP attempt: lg.exchange, url.path,
    │   │       │                                http.response.status_code, lg.attempt
    │   │       └── GET <time path>              the clock sync a first signed request makes
    │   └── decide                               main thread: policy, or review, or deferral
    ├── keeper.post_verifications  lg.claim_ids  one verdict batch; a link to each claim's keeper.claim
    │   └── chain.send                           dry-run, sign, send: lg.tx.kind, lg.tx.claims, lg.tx.hash
    └── chain.settle                             the receipt: lg.tx.hash, lg.tx.status, lg.tx.gas_used

Why a batch post is a span of its own with links, not a ``post`` child of each claim: one transaction
carries a batch of verdicts, sent when the batch fills while other claims are still being verified. A child
per claim would show one operation as N, and a claim span kept open until its batch is sent would measure
the other claims' verification, not this one's. So ``keeper.claim`` ends with its decision, and the batch
names its claims (``lg.claim_ids``) and links to their spans (a verdict of an earlier pass, or a person's,
has no span to link to: only its id). ``chain.settle`` is the pass's child, not the post's: the keeper
waits for a batch's receipt later (before sending the next batch, or at the end of the post step), and a
child would say the post waited for it. Payouts: ``chain.send`` and ``chain.settle`` of ``executePayouts``
under the pass.

The workers are threads, which do not inherit the caller's context (contextvars): ``in_current_context``
captures it where the stream starts and attaches it in the worker, so a claim span is the pass's child and
the request spans are the verify span's.

A ``GET <path>`` span is one attempt as the transport makes it: the wait for the limiter's units included
(they are held until the answer), so a slow span may be a full bucket, not a slow exchange.

What a span never carries: a query string (Binance's ``signature`` and ``timestamp`` are query parameters),
a header (OKX's and Bybit's signatures, every API key), an exception's message (``requests`` quotes the full
URL in its messages): only the exception's type (``error.type``).

Not configured (``LG_OTEL_EXPORTER=none``, the default), every hook returns before touching OpenTelemetry:
the crash-day rates pay one flag test per hook.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME as SERVICE_NAME_KEY
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Link, Span, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.util.types import Attributes

if TYPE_CHECKING:
    from keeper.settings import KeeperSettings

SERVICE_NAME = "leverageguard-keeper"
INSTRUMENTATION_NAME = "keeper"

PASS_SPAN = "keeper.pass"
CLAIM_SPAN = "keeper.claim"
VERIFY_SPAN = "verify"
DECIDE_SPAN = "decide"
POST_SPAN = "keeper.post_verifications"
SEND_SPAN = "chain.send"
SETTLE_SPAN = "chain.settle"

CLAIM_ID = "lg.claim_id"
CLAIM_IDS = "lg.claim_ids"
EXCHANGE = "lg.exchange"
URL_PATH = "url.path"
HTTP_STATUS = "http.response.status_code"
ATTEMPT = "lg.attempt"
TX_HASH = "lg.tx.hash"
TX_KIND = "lg.tx.kind"
TX_CLAIMS = "lg.tx.claims"
TX_STATUS = "lg.tx.status"
TX_GAS_USED = "lg.tx.gas_used"
ERROR_TYPE = "error.type"

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


class TracingConfigError(ValueError):
    """The tracing settings name an exporter this installation cannot build."""


class _State:
    """The keeper's tracer. Not the OpenTelemetry global provider: that one can be set once per process,
    and a test (or a re-configuration) must be able to swap it."""

    def __init__(self) -> None:
        self.enabled = False
        self.tracer: trace.Tracer = trace.NoOpTracer()
        self.provider: TracerProvider | None = None


_state = _State()
_UNTRACED: AbstractContextManager[None] = nullcontext()
_CLAIMS_KEY = otel_context.create_key("lg-pass-claims")


def configure(settings: KeeperSettings) -> TracerProvider | None:
    """The keeper's tracer from ``LG_OTEL_EXPORTER`` (``none``: the no-op tracer, returns None). Spans are
    exported in batches from the SDK's thread: an unreachable collector costs dropped spans and a logged
    error, never a failed start-up or a slower pass. The SDK's ``OTEL_*`` variables (sampler, batch queue
    size, OTLP headers) apply."""
    if settings.otel_exporter == "none":
        use(None)
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME_KEY: SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    use(provider)
    return provider


def _exporter(settings: KeeperSettings) -> SpanExporter:
    if settings.otel_exporter == "console":
        # stderr: stdout carries `keeper run --once`'s JSON report.
        return ConsoleSpanExporter(service_name=SERVICE_NAME, out=sys.stderr)
    try:
        # Imported only when selected: it loads protobuf.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise TracingConfigError(
            "LG_OTEL_EXPORTER=otlp needs the package opentelemetry-exporter-otlp-proto-http"
        ) from None
    return OTLPSpanExporter(endpoint=settings.otel_endpoint, timeout=settings.otel_timeout_seconds)


def use(provider: TracerProvider | None) -> None:
    """The keeper's spans go to ``provider`` from now on; None: the no-op tracer (the caller shuts down a
    provider it replaces)."""
    _state.provider = provider
    _state.tracer = trace.NoOpTracer() if provider is None else provider.get_tracer(INSTRUMENTATION_NAME)
    _state.enabled = provider is not None


def tracer() -> trace.Tracer:
    return _state.tracer


def enabled() -> bool:
    return _state.enabled


def in_current_context(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` running in the context current here, in whichever thread calls it (a worker thread
    starts with an empty one)."""
    if not _state.enabled:
        return function
    captured = otel_context.get_current()

    @functools.wraps(function)
    def attached(*args: P.args, **kwargs: P.kwargs) -> R:
        token = otel_context.attach(captured)
        try:
            return function(*args, **kwargs)
        finally:
            otel_context.detach(token)

    return attached


# --- the pass and its claims


class _PassClaims:
    """The claim spans of one pass: started by the verify workers, ended with each claim's decision, their
    contexts kept for the links of the batch posts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stream: list[int] = []
        self._open: dict[int, Span] = {}
        self._ended: dict[int, SpanContext] = {}

    def stream(self, claim_ids: Sequence[int]) -> None:
        self.close()
        self._stream = list(claim_ids)

    def start(self, index: int) -> Span | None:
        if index >= len(self._stream):
            return None
        span = _start(CLAIM_SPAN, attributes={CLAIM_ID: self._stream[index]})
        with self._lock:
            self._open[index] = span
        return span

    @contextmanager
    def deciding(self, index: int) -> Iterator[Span]:
        """``decide`` in the ``index``-th claim's span, which ends with it."""
        with self._lock:
            claim = self._open.get(index)
        try:
            with _active(DECIDE_SPAN, parent=_under(claim)) as span:
                yield span
        except BaseException as exc:
            if claim is not None:
                _failed(claim, exc)
            raise
        finally:
            self.end(index)

    def end(self, index: int) -> None:
        with self._lock:
            span = self._open.pop(index, None)
            if span is None:
                return
            self._ended[self._stream[index]] = span.get_span_context()
        span.end()

    def links(self, claim_ids: Sequence[int]) -> list[Link]:
        with self._lock:
            return [Link(self._ended[c]) for c in claim_ids if c in self._ended]

    def close(self) -> None:
        """Ends the claims verified and never decided (the stream stopped: SIGTERM, a failure)."""
        with self._lock:
            left, self._open = list(self._open.values()), {}
        for span in left:
            span.end()


def _pass_claims() -> _PassClaims | None:
    claims = otel_context.get_value(_CLAIMS_KEY)
    return claims if isinstance(claims, _PassClaims) else None


def traced_pass(run: Callable[P, R]) -> Callable[P, R]:
    """``keeper.pass`` around one pass (``Pipeline.run_once``), with the registry of its claim spans."""

    @functools.wraps(run)
    def traced(*args: P.args, **kwargs: P.kwargs) -> R:
        if not _state.enabled:
            return run(*args, **kwargs)
        claims = _PassClaims()
        span = _start(PASS_SPAN)
        in_pass = otel_context.set_value(_CLAIMS_KEY, claims, trace.set_span_in_context(span))
        token = otel_context.attach(in_pass)
        try:
            return run(*args, **kwargs)
        except BaseException as exc:
            _failed(span, exc)
            raise
        finally:
            claims.close()
            otel_context.detach(token)
            span.end()

    return traced


class _Claim(Protocol):
    @property
    def claim_id(self) -> int: ...


def verifying(claims: Sequence[_Claim]) -> None:
    """The claims of the verification stream about to start, in request order (``verify_span(i)`` is the
    i-th's)."""
    if not _state.enabled:
        return
    registry = _pass_claims()
    if registry is not None:
        registry.stream([claim.claim_id for claim in claims])


def verify_span(index: int) -> AbstractContextManager[object]:
    """``verify`` of the stream's ``index``-th request, in its ``keeper.claim`` span (started here: the
    claim's work starts when a worker takes it); a plain ``verify`` outside a pass (``keeper verify``)."""
    if not _state.enabled:
        return _UNTRACED
    claims = _pass_claims()
    return _active(VERIFY_SPAN, parent=_under(None if claims is None else claims.start(index)))


def decide_span(index: int) -> AbstractContextManager[object]:
    """``decide`` of the stream's ``index``-th claim; its ``keeper.claim`` span ends with it."""
    if not _state.enabled:
        return _UNTRACED
    claims = _pass_claims()
    return _active(DECIDE_SPAN) if claims is None else claims.deciding(index)


def post_verifications(batch: Sequence[tuple[int, object]]) -> AbstractContextManager[object]:
    """``keeper.post_verifications`` of one verdict batch ((claim id, verdict) pairs), linked to the claim
    spans of this pass."""
    if not _state.enabled:
        return _UNTRACED
    claim_ids = [claim_id for claim_id, _ in batch]
    claims = _pass_claims()
    links = [] if claims is None else claims.links(claim_ids)
    return _active(POST_SPAN, attributes={CLAIM_IDS: list(claim_ids)}, links=links)


# --- exchange requests


class RequestSpan:
    """One exchange request's span (``with``); ``answered`` records the HTTP status. This base class is the
    untraced request: it does nothing."""

    __slots__ = ()

    def __enter__(self) -> RequestSpan:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def answered(self, status: int) -> None:
        return None


class _TracedRequest(RequestSpan):
    __slots__ = ("_span", "_token")

    def __init__(self, span: Span) -> None:
        self._span = span
        self._token: Token[Context] | None = None

    def __enter__(self) -> RequestSpan:
        # Current: the clock sync that a first signed request makes before signing is this attempt's child.
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            otel_context.detach(self._token)
        if exc is not None:
            _failed(self._span, exc)
        self._span.end()

    def answered(self, status: int) -> None:
        self._span.set_attribute(HTTP_STATUS, status)
        if status >= 400:  # a client span's error, as OpenTelemetry's HTTP conventions have it
            self._span.set_status(Status(StatusCode.ERROR))
            self._span.set_attribute(ERROR_TYPE, str(status))


_UNTRACED_REQUEST = RequestSpan()


def exchange_request(exchange: str, path: str, attempt: int) -> RequestSpan:
    """The span of one HTTP attempt, ``GET <path>``: the path only, never the query (it carries the
    signature and the timestamp), nor a header."""
    if not _state.enabled:
        return _UNTRACED_REQUEST
    return _TracedRequest(
        _start(
            f"GET {path}",
            attributes={EXCHANGE: exchange, URL_PATH: path, ATTEMPT: attempt},
            kind=SpanKind.CLIENT,
        )
    )


# --- chain transactions


class _Pending(Protocol):
    @property
    def tx_hash(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def claim_ids(self) -> list[int]: ...


class _Sent(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def gas_used(self) -> int | None: ...


Pending = TypeVar("Pending", bound=_Pending)
Sent = TypeVar("Sent", bound=_Sent)


def traced_send(
    submit: Callable[[S, str, Any, list[int]], Pending],
) -> Callable[[S, str, Any, list[int]], Pending]:
    """``chain.send`` around ``ChainClient._submit(method, arguments, claim_ids)``: dry-run, sign, send."""

    @functools.wraps(submit)
    def send(client: S, method: str, arguments: Any, claim_ids: list[int]) -> Pending:
        if not _state.enabled:
            return submit(client, method, arguments, claim_ids)
        with _active(SEND_SPAN, attributes={TX_KIND: method, TX_CLAIMS: len(claim_ids)}) as span:
            pending = submit(client, method, arguments, claim_ids)
            span.set_attributes({TX_HASH: pending.tx_hash, TX_STATUS: "sent"})
        return pending

    return send


def traced_settle(settle: Callable[[S, Pending], Sent]) -> Callable[[S, Pending], Sent]:
    """``chain.settle`` around ``ChainClient.settle(pending)``: the wait for the receipt, and what it says."""

    @functools.wraps(settle)
    def settled(client: S, pending: Pending) -> Sent:
        if not _state.enabled:
            return settle(client, pending)
        attributes: Attributes = {
            TX_HASH: pending.tx_hash,
            TX_KIND: pending.method,
            TX_CLAIMS: len(pending.claim_ids),
        }
        with _active(SETTLE_SPAN, attributes=attributes) as span:
            sent = settle(client, pending)
            span.set_attribute(TX_STATUS, sent.status)
            if sent.gas_used is not None:
                span.set_attribute(TX_GAS_USED, sent.gas_used)
        return sent

    return settled


# --- spans


def _start(
    name: str,
    *,
    parent: Context | None = None,
    attributes: Attributes = None,
    links: Sequence[Link] = (),
    kind: SpanKind = SpanKind.INTERNAL,
) -> Span:
    # No recorded exceptions: their messages may quote a URL with its query (see the module docstring).
    return _state.tracer.start_span(
        name,
        context=parent,
        kind=kind,
        attributes=attributes,
        links=links,
        record_exception=False,
        set_status_on_exception=False,
    )


@contextmanager
def _active(
    name: str,
    *,
    parent: Context | None = None,
    attributes: Attributes = None,
    links: Sequence[Link] = (),
) -> Iterator[Span]:
    """A span current for the ``with`` block, its status an error (type only) when the block raises."""
    span = _start(name, parent=parent, attributes=attributes, links=links)
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield span
    except BaseException as exc:
        _failed(span, exc)
        raise
    finally:
        otel_context.detach(token)
        span.end()


def _under(span: Span | None) -> Context | None:
    """The context whose spans are ``span``'s children (None: the current one's)."""
    return None if span is None else trace.set_span_in_context(span)


def _failed(span: Span, exc: BaseException) -> None:
    span.set_status(Status(StatusCode.ERROR))
    span.set_attribute(ERROR_TYPE, type(exc).__name__)
