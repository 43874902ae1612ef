"""OpenTelemetry tracing (keeper/tracing.py): the span tree of a real pass over the simulated exchanges and a
local chain, no secret in any span, and the settings -> provider configuration."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from keeper import tracing
from keeper.settings import KeeperSettings
from keeper.sim.onchain import pick_claims

ONE_PER_EXCHANGE = ("okx:full_liquidation", "binance:full_liquidation", "bybit:full_liquidation")
REQUEST_ATTRIBUTES = {tracing.EXCHANGE, tracing.URL_PATH, tracing.HTTP_STATUS, tracing.ATTEMPT}
# Shorter header values (Bybit's recv window "5000", "application/json") are no secret, and a short
# number can occur in a gas amount by chance.
MIN_HEADER_CHECKED = 8


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    yield exporter
    tracing.use(None)
    provider.shutdown()


def _settings(**values: Any) -> KeeperSettings:
    return KeeperSettings(_env_file=None, **values)


def _parent_id(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def _context(span: ReadableSpan) -> trace.SpanContext:
    assert span.context is not None
    return span.context


def _span_id(span: ReadableSpan) -> int:
    return _context(span).span_id


def _children(finished: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    return [s for s in finished if _parent_id(s) == _span_id(parent)]


def _one(finished: list[ReadableSpan], name: str) -> ReadableSpan:
    named = [s for s in finished if s.name == name]
    assert len(named) == 1, [s.name for s in finished]
    return named[0]


def _texts(span: ReadableSpan) -> list[str]:
    """Everything a span says, as text: its name, and every attribute of it, of its events and links."""
    maps: list[Mapping[str, Any]] = [span.attributes or {}]
    maps += [event.attributes or {} for event in span.events]
    maps += [link.attributes or {} for link in span.links]
    texts = [span.name, *(event.name for event in span.events)]
    for attributes in maps:
        for key, value in attributes.items():
            values = value if isinstance(value, tuple | list) else (value,)
            texts += [key, *(str(v) for v in values)]
    return texts


def _secrets(accounts: Mapping[str, Mapping[str, str]]) -> set[str]:
    found: set[str] = set()
    for entry in accounts.values():
        for field in ("api_key", "secret", "passphrase", "private_key_pem"):
            if entry.get(field):
                found.add(entry[field])
                # A PEM's base64 lines, each on its own, would be as bad as the whole key.
                found.update(line for line in entry[field].splitlines() if len(line) > 16)
    return found


def test_run_once__one_claim_per_exchange__span_tree_verify_decide_post(
    keeper_world: Any, validator: Any, spans: InMemorySpanExporter
) -> None:
    world = keeper_world(120)
    picked = pick_claims(world.scenarios, 3, first=ONE_PER_EXCHANGE)
    assert sorted(e.scenario for e in picked) == sorted(ONE_PER_EXCHANGE)
    world.whitelist(picked)
    for expected in picked:
        world.file(expected)
    keeper = world.pipeline(validator)
    sent: list[tuple[str, str, dict[str, str]]] = []  # (path, query, headers) of every request sent
    for transport in keeper.verifier.exchange_transports().values():

        def recording(path: str, query: str, headers: Any, *rest: Any, _send: Any = transport._send) -> Any:
            sent.append((path, query, dict(headers)))
            return _send(path, query, headers, *rest)

        transport._send = recording  # type: ignore[method-assign]

    report = keeper.run_once()

    filed = {f.claim_id: f for f in world.filed}
    assert sorted(report.decided) == sorted(filed) and sorted(report.posted) == sorted(filed)
    assert len(report.transactions) == 1
    finished = list(spans.get_finished_spans())
    root = _one(finished, tracing.PASS_SPAN)
    assert root.parent is None
    assert {_context(s).trace_id for s in finished} == {_context(root).trace_id}
    claim_spans: dict[int, ReadableSpan] = {}
    for claim_id, f in filed.items():
        (claim,) = [
            s
            for s in finished
            if s.name == tracing.CLAIM_SPAN and s.attributes == {tracing.CLAIM_ID: claim_id}
        ]
        assert _parent_id(claim) == _span_id(root)
        verify, decide = sorted(_children(finished, claim), key=lambda s: s.start_time or 0)
        assert (verify.name, decide.name) == (tracing.VERIFY_SPAN, tracing.DECIDE_SPAN)
        assert verify.end_time is not None and decide.start_time is not None
        assert verify.end_time <= decide.start_time  # the worker's span ended before the verdict was made
        assert (
            claim.end_time is not None and decide.end_time is not None and decide.end_time <= claim.end_time
        )
        assert _children(finished, decide) == []
        requests = sorted(_children(finished, verify), key=lambda s: s.start_time or 0)
        assert requests and not any(s.name.endswith("/time") for s in requests), f.expected.scenario
        # Each exchange's clock is synced before its first signed request: inside that attempt, its child.
        (clock_sync,) = _children(finished, requests[0])
        assert clock_sync.name.endswith("/time") and _children(finished, clock_sync) == []
        assert all(_children(finished, s) == [] for s in requests[1:])
        for request in [*requests, clock_sync]:
            attributes = dict(request.attributes or {})
            assert set(attributes) == REQUEST_ATTRIBUTES
            assert request.name == f"GET {attributes[tracing.URL_PATH]}"
            assert attributes[tracing.EXCHANGE] == f.expected.claim["exchange"]
            assert (attributes[tracing.HTTP_STATUS], attributes[tracing.ATTEMPT]) == (200, 1)
            assert request.kind is trace.SpanKind.CLIENT
        claim_spans[claim_id] = claim
    # Every request sent is one span in a verify span, none elsewhere.
    request_spans = [s for s in finished if s.name.startswith("GET ")]
    assert len(request_spans) == len(sent)
    assert sorted(s.name for s in request_spans) == sorted(f"GET {path}" for path, _, _ in sent)

    post = _one(finished, tracing.POST_SPAN)
    assert _parent_id(post) == _span_id(root)
    assert dict(post.attributes or {}) == {tracing.CLAIM_IDS: tuple(sorted(filed))}
    assert sorted(link.context.span_id for link in post.links) == sorted(
        _span_id(s) for s in claim_spans.values()
    )
    tx_hash = report.transactions[0]
    send = _one(finished, tracing.SEND_SPAN)
    assert _parent_id(send) == _span_id(post)
    assert dict(send.attributes or {}) == {
        tracing.TX_KIND: "postVerifications",
        tracing.TX_CLAIMS: 3,
        tracing.TX_HASH: tx_hash,
        tracing.TX_STATUS: "sent",
    }
    settle = _one(finished, tracing.SETTLE_SPAN)
    assert _parent_id(settle) == _span_id(root)  # waited for after the post, by the pass
    ((kind, status, gas_used),) = report.transaction_outcomes
    assert (kind, status) == ("verify", "confirmed") and gas_used is not None and gas_used > 0
    assert dict(settle.attributes or {}) == {
        tracing.TX_HASH: tx_hash,
        tracing.TX_KIND: "postVerifications",
        tracing.TX_CLAIMS: 3,
        tracing.TX_STATUS: "confirmed",
        tracing.TX_GAS_USED: gas_used,
    }
    assert all(s.status.status_code is not trace.StatusCode.ERROR for s in finished)

    # No secret in any span: the accounts' credentials, any header value sent, the signed queries.
    accounts = json.loads(world.accounts_file.read_text())
    forbidden = _secrets(accounts) | {"signature=", "timestamp=", "?"}
    signed_queries = [query for _, query, _ in sent if "signature=" in query]
    assert signed_queries  # Binance's signature is in the query: the check below means something
    for _, query, headers in sent:
        if query:
            forbidden.add(query)
            forbidden.update(value for _, value in parse_qsl(query) if len(value) >= MIN_HEADER_CHECKED)
        forbidden.update(value for value in headers.values() if len(value) >= MIN_HEADER_CHECKED)
    assert any(key.lower().endswith("sign") for _, _, h in sent for key in h)  # OKX / Bybit sign in headers
    leaks = [
        (s.name, text, secret)
        for s in finished
        for text in _texts(s)
        for secret in forbidden
        if secret in text
    ]
    assert leaks == []


def test_configure__exporter_none__noop_tracer_and_no_work_in_the_hooks() -> None:
    assert tracing.configure(_settings(otel_exporter="none")) is None

    assert not tracing.enabled()
    assert isinstance(tracing.tracer(), trace.NoOpTracer)
    with tracing.tracer().start_as_current_span("anything") as span:
        assert not span.is_recording()

    # Not configured, the hooks hand back what they were given or a shared do-nothing object: no span.
    def work() -> None:
        return None

    assert tracing.in_current_context(work) is work
    assert tracing.exchange_request("okx", "/api/v5/trade/order", 1) is tracing.exchange_request(
        "bybit", "/", 2
    )
    assert tracing.verify_span(0) is tracing.decide_span(0) is tracing.post_verifications([(1, None)])


def test_configure__console_from_environment__spans_written_to_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LG_OTEL_EXPORTER", "console")
    settings = _settings()
    assert settings.otel_exporter == "console"

    provider = tracing.configure(settings)
    try:
        assert provider is not None and tracing.enabled()
        assert provider.resource.attributes["service.name"] == tracing.SERVICE_NAME
        with tracing.exchange_request("okx", "/api/v5/trade/order", 1) as request:
            request.answered(200)
        assert provider.force_flush()
    finally:
        tracing.use(None)
        provider.shutdown()  # type: ignore[union-attr]

    captured = capsys.readouterr()
    assert captured.out == ""  # stdout is `keeper run --once`'s report
    printed = json.loads(captured.err)
    assert printed["name"] == "GET /api/v5/trade/order"
    assert printed["attributes"] == {
        tracing.EXCHANGE: "okx",
        tracing.URL_PATH: "/api/v5/trade/order",
        tracing.ATTEMPT: 1,
        tracing.HTTP_STATUS: 200,
    }
    assert printed["resource"]["attributes"]["service.name"] == tracing.SERVICE_NAME


def test_configure__otlp_unreachable_endpoint__starts_and_shuts_down_without_raising() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = _settings(
        otel_exporter="otlp", otel_endpoint=f"http://127.0.0.1:{port}/v1/traces", otel_timeout_seconds=0.5
    )

    provider = tracing.configure(settings)
    started = time.monotonic()
    try:
        assert provider is not None and tracing.enabled()
        with tracing.tracer().start_as_current_span("keeper.pass"):
            pass
        provider.force_flush(timeout_millis=2_000)  # the export fails: logged by the SDK, not raised
    finally:
        tracing.use(None)
        provider.shutdown()  # type: ignore[union-attr]
    assert time.monotonic() - started < 10


def test_in_current_context__worker_thread__sees_the_callers_span(spans: InMemorySpanExporter) -> None:
    seen: list[int] = []

    def work() -> None:
        seen.append(trace.get_current_span().get_span_context().span_id)

    with tracing.tracer().start_as_current_span("caller") as caller:
        worker = threading.Thread(target=tracing.in_current_context(work))
        worker.start()
        worker.join()
        bare = threading.Thread(target=work)  # without it, a new thread has no current span
        bare.start()
        bare.join()

    assert seen == [caller.get_span_context().span_id, trace.INVALID_SPAN.get_span_context().span_id]


def test_exchange_request__raises_with_a_url_in_its_message__only_the_error_type_recorded(
    spans: InMemorySpanExporter,
) -> None:
    message = "GET https://fapi.binance.com/fapi/v1/order?timestamp=1&signature=abc"

    with pytest.raises(ValueError), tracing.exchange_request("binance", "/fapi/v1/order", 2):
        raise ValueError(message)

    (span,) = spans.get_finished_spans()
    assert span.name == "GET /fapi/v1/order"
    assert dict(span.attributes or {}) == {
        tracing.EXCHANGE: "binance",
        tracing.URL_PATH: "/fapi/v1/order",
        tracing.ATTEMPT: 2,
        tracing.ERROR_TYPE: "ValueError",
    }
    assert (span.status.status_code, span.status.description) == (trace.StatusCode.ERROR, None)
    assert span.events == ()


def test_exchange_request__answered_429__client_error_status(spans: InMemorySpanExporter) -> None:
    with tracing.exchange_request("binance", "/fapi/v1/income", 1) as request:
        request.answered(429)

    (span,) = spans.get_finished_spans()
    assert dict(span.attributes or {})[tracing.HTTP_STATUS] == 429
    assert dict(span.attributes or {})[tracing.ERROR_TYPE] == "429"
    assert span.status.status_code is trace.StatusCode.ERROR


def test_traced_pass__a_claim_verified_never_decided__its_span_ends_with_the_pass(
    spans: InMemorySpanExporter,
) -> None:
    @dataclass(frozen=True)
    class Claim:
        claim_id: int

    @tracing.traced_pass
    def one_pass() -> None:
        tracing.verifying([Claim(7), Claim(8)])

        def worker() -> None:
            for index in (0, 1):
                with tracing.verify_span(index):
                    pass

        thread = threading.Thread(target=tracing.in_current_context(worker))
        thread.start()
        thread.join()
        with tracing.decide_span(0):  # claim 8 is never decided: the pass stopped (SIGTERM)
            pass

    one_pass()

    finished = list(spans.get_finished_spans())
    root = _one(finished, tracing.PASS_SPAN)
    claims = {dict(s.attributes or {})[tracing.CLAIM_ID]: s for s in _children(finished, root)}
    assert sorted(claims) == [7, 8]
    assert sorted(s.name for s in _children(finished, claims[7])) == [
        tracing.DECIDE_SPAN,
        tracing.VERIFY_SPAN,
    ]
    assert [s.name for s in _children(finished, claims[8])] == [tracing.VERIFY_SPAN]
    assert len(finished) == 6  # the pass, two claims, two verify spans, one decide span: all ended
