"""The build sees every contract source (ape lists at most 500 files under contracts/, .cache included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def test_project_sources__every_contract_file__is_found(project: Any) -> None:
    ours = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "contracts").rglob("*.sol")
        if ".cache" not in path.parts
    }
    found = {path.relative_to(ROOT).as_posix() for path in project.sources.paths}
    assert ours <= found, sorted(ours - found)
