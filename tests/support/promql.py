"""Metric names in PromQL expressions (alert rules, dashboard panels) and in what a registry exposes.

Not a PromQL parser: enough of the language that the names our own expressions use come out, and nothing
else. A name is an identifier followed by a selector (``{``, ``[``), whitespace, ``)`` or the end; label
matchers, range durations, grouping clauses (``by (le)``), strings and Grafana variables are cut first, so
their identifiers are never taken for metrics; a function is an identifier followed by ``(``.
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

KEYWORDS = frozenset(
    {
        "and",
        "or",
        "unless",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "offset",
        "bool",
        "inf",
        "nan",
    }
)
SYNTHETIC = frozenset({"up"})
"""Series Prometheus adds to each scrape itself: no exporter registers them."""

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w.$:])([A-Za-z_:][\w:]*)(?=\s*(?:[{\[)]|$)|\s+(?![\s(]))")


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("{}", text)
    text = _RANGE.sub("[]", text)
    text = _GROUPING.sub(" ", text)
    return {name for name in _NAME.findall(text) if name.lower() not in KEYWORDS}


def exposed_names(exposition: str) -> set[str]:
    """Every sample name in a /metrics text (``keeper_passes_total``, ``..._bucket``, ``..._count``, ...)."""
    return {sample.name for family in text_string_to_metric_families(exposition) for sample in family.samples}


def registered_names(registry: CollectorRegistry) -> set[str]:
    """The sample names each registered metric is exposed under, whether or not it has a sample yet (a
    labelled metric nothing observed has none): as prometheus_client names them by type."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "summary": ("_count", "_sum", "_created"),
        "gauge": ("",),
        "info": ("_info",),
    }
    return {
        family.name + suffix for family in registry.collect() for suffix in suffixes.get(family.type, ("",))
    }
