"""monitoring/prometheus/alerts.yml: promtool accepts it and passes its unit tests (alerts.test.yml); every
rule is tested firing and quiet, is labelled and annotated for the operator, and reads only metrics the keeper
registers. promtool missing is a failure, never a skip: `make bootstrap` installs it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.promql import SYNTHETIC, metric_names, registered_names

from keeper.metrics import KeeperMetrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "monitoring" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "monitoring" / "prometheus" / "alerts.test.yml"
DOCS = ROOT / "docs" / "keeper-daemon.md"
RUNBOOK_LINK = re.compile(r": docs/keeper-daemon\.md#([a-z0-9-]+)$")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed: `make bootstrap` installs it (Debian's package prometheus)")
    return subprocess.run([path, *args], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_alert_rules__promtool_check__valid() -> None:
    result = promtool("check", "rules", str(RULES))

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_alert_rules__promtool_unit_tests__all_pass() -> None:
    result = promtool("test", "rules", str(RULE_TESTS))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_alert_rules__every_rule__fires_and_stays_quiet() -> None:
    """A rule with no firing case could be dead; one with no quiet case could fire on anything."""
    seen: dict[str, set[str]] = {}
    for group in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for case in group.get("alert_rule_test", []):
            seen.setdefault(case["alertname"], set()).add("fires" if case.get("exp_alerts") else "quiet")
    names = [rule["alert"] for rule in alert_rules()]

    assert {name: seen.get(name, set()) for name in names} == {name: {"fires", "quiet"} for name in names}
    assert set(seen) - set(names) == set()  # no test of a rule that is gone


def test_alert_rules__every_rule__for_severity_summary_and_a_runbook_section() -> None:
    anchors = heading_anchors(DOCS.read_text())
    for rule in alert_rules():
        name = rule["alert"]
        assert re.fullmatch(r"\d+[smh]", str(rule.get("for", ""))), name
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert set(rule["annotations"]) == {"summary", "runbook"}, name
        runbook = rule["annotations"]["runbook"]
        link = RUNBOOK_LINK.search(runbook)
        assert "\n" not in runbook and link is not None, name
        assert link.group(1) == name.lower(), name
        assert link.group(1) in anchors, f"{name}: docs/keeper-daemon.md has no section #{link.group(1)}"


def test_alert_rules__metric_names__all_registered_by_the_keeper() -> None:
    used = {rule["alert"]: metric_names(rule["expr"]) for rule in alert_rules()}
    registered = registered_names(KeeperMetrics().registry) | SYNTHETIC

    assert {name: names - registered for name, names in used.items() if names - registered} == {}
    assert all(used.values())  # each rule reads something: the name extraction did not silently fail
