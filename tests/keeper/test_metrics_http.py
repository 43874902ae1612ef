"""/metrics is prometheus_client's own handler (content negotiation, gzip, name[] filters); /healthz and
unknown paths are the keeper's."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS

from keeper.metrics import HealthLimits, HealthState, KeeperMetrics, MetricsServer
from keeper.pipeline import RunReport


@pytest.fixture
def base_url() -> Iterator[str]:
    metrics = KeeperMetrics()
    metrics.observe_pass(RunReport(recorded=[1, 2], verdict_reasons=[0]))
    health = HealthState(HealthLimits(head_stall_seconds=30, max_pass_seconds=100))
    server = MetricsServer("127.0.0.1", 0, metrics, health).start()
    try:
        yield f"http://127.0.0.1:{server.address[1]}"
    finally:
        server.stop()


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_metrics_server__no_accept_header__prometheus_text_format(base_url: str) -> None:
    status, headers, body = get(f"{base_url}/metrics")

    assert (status, headers["Content-Type"]) == (200, CONTENT_TYPE_PLAIN_0_0_4)
    assert "keeper_claims_seen_total 2.0\n" in body.decode()


def test_metrics_server__openmetrics_accepted__openmetrics_with_eof(base_url: str) -> None:
    status, headers, body = get(f"{base_url}/metrics", Accept="application/openmetrics-text")

    assert (status, headers["Content-Type"]) == (200, OPENMETRICS)
    text = body.decode()
    assert "keeper_claims_seen_total 2.0\n" in text
    assert text.endswith("# EOF\n")


def test_metrics_server__gzip_accepted__compressed_body(base_url: str) -> None:
    status, headers, body = get(f"{base_url}/metrics", **{"Accept-Encoding": "gzip"})

    assert (status, headers["Content-Encoding"]) == (200, "gzip")
    assert "keeper_claims_seen_total 2.0\n" in gzip.decompress(body).decode()


def test_metrics_server__name_filter__only_that_metric(base_url: str) -> None:
    _, _, body = get(f"{base_url}/metrics?name[]=keeper_passes_total")

    assert body.decode() == (
        "# HELP keeper_passes_total Completed pipeline passes.\n"
        "# TYPE keeper_passes_total counter\n"
        "keeper_passes_total 1.0\n"
    )


def test_metrics_server__healthz_and_unknown_path__the_keepers_answers(base_url: str) -> None:
    status, headers, body = get(f"{base_url}/healthz")
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(f"{base_url}/metricz")

    assert (status, headers["Content-Type"], body) == (
        200,
        "application/json",
        b'{"ok": true, "problems": [], "head": null}',
    )
    assert (missing.value.code, missing.value.read()) == (404, b"not found\n")
