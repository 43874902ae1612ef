"""The keeper daemon's health as its own HTTP server reports it (``/healthz``, ``/metrics``): the console
asks, it never infers health from the store. A keeper that does not answer is shown as such, with the
reason."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from keeper.console.snapshots import KeeperHealth

ASK_TIMEOUT_SECONDS = 2.0
"""A page waits at most this long per request for the keeper; a stalled keeper must not stall the console."""


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=ASK_TIMEOUT_SECONDS) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as error:  # /healthz answers 503 with its problems in the body
        return str(error.read().decode())


def read_health(base_url: str) -> KeeperHealth:
    """Asks the keeper at ``base_url`` (``http://127.0.0.1:9464``) for ``/healthz`` and ``/metrics``."""
    asked_at = time.time()
    try:
        health_body = _get(f"{base_url}/healthz")
        metrics_body = _get(f"{base_url}/metrics")
    except (OSError, urllib.error.URLError) as error:
        return KeeperHealth(
            url=base_url, asked_at=asked_at, reachable=False, problems=[f"no answer: {error}"]
        )
    return health_from(base_url, asked_at, health_body, metrics_body)


def health_from(base_url: str, asked_at: float, health_body: str, metrics_body: str) -> KeeperHealth:
    """The health answer and the metrics text, parsed; an answer that is not the keeper's is a problem."""
    try:
        health = json.loads(health_body)
        ok, problems = bool(health["ok"]), [str(problem) for problem in health["problems"]]
    except (ValueError, KeyError, TypeError):
        problem = f"not a keeper health answer: {health_body[:80]!r}"
        return KeeperHealth(url=base_url, asked_at=asked_at, reachable=True, problems=[problem])
    passes, errors, last_pass_at = None, 0, None
    for family in text_string_to_metric_families(metrics_body):
        for sample in family.samples:
            if sample.name == "keeper_passes_total":
                passes = int(sample.value)
            elif sample.name == "keeper_pass_errors_total":  # one series per exception type
                errors += int(sample.value)
            elif sample.name == "keeper_last_pass_timestamp_seconds":
                last_pass_at = float(sample.value)
    return KeeperHealth(
        url=base_url,
        asked_at=asked_at,
        reachable=True,
        ok=ok,
        problems=problems,
        last_pass_at=last_pass_at,
        passes=passes,
        pass_errors=errors,
    )
