"""Fixtures for the contract tests: test-only contracts from `tests/fixture_contracts/`, compiled once per
session.

Ape compiles only `contracts/`; the malicious tokens and upgrade targets the attack tests need live in
`tests/fixture_contracts/` so that no deployment script can ever pick them up. They are compiled here with
the project's compiler settings and remappings (~20 s with via-IR) and cached in `.build/test-contracts.json`,
keyed by a hash of every source under `tests/fixture_contracts/` and `contracts/` and of `ape-config.yaml`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from ape.contracts import ContractContainer
from ethpm_types import ContractType

_TESTS_DIR = Path(__file__).resolve().parent.parent
_ROOT = _TESTS_DIR.parent
TEST_CONTRACTS_DIR = _TESTS_DIR / "fixture_contracts"
CACHE_FILE = _ROOT / ".build" / "test-contracts.json"


def _sources_digest() -> str:
    digest = hashlib.sha256((_ROOT / "ape-config.yaml").read_bytes())
    for directory in (TEST_CONTRACTS_DIR, _ROOT / "contracts"):
        for path in sorted(directory.rglob("*.sol")):
            if ".cache" in path.parts:
                continue
            digest.update(str(path.relative_to(_ROOT)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def _compile_test_contracts(project: Any) -> dict[str, ContractType]:
    from ape import compilers

    paths = sorted(p.resolve() for p in TEST_CONTRACTS_DIR.rglob("*.sol"))
    compiled = compilers.compile(paths, project=project)
    return {ct.name: ct for ct in compiled if ct.name}


def load_test_contract_types(project: Any) -> dict[str, ContractType]:
    """The compiled test-only contracts, from the cache when no source changed."""
    digest = _sources_digest()
    if CACHE_FILE.is_file():
        try:
            cached = json.loads(CACHE_FILE.read_text())
            if cached.get("digest") == digest:
                return {name: ContractType.model_validate(ct) for name, ct in cached["contractTypes"].items()}
        except (ValueError, KeyError):
            pass
    types = _compile_test_contracts(project)
    CACHE_FILE.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "digest": digest,
        "contractTypes": {name: ct.model_dump(mode="json", by_alias=True) for name, ct in types.items()},
    }
    tmp = CACHE_FILE.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload))
    tmp.replace(CACHE_FILE)
    return types


@pytest.fixture(scope="session")
def test_contracts(project: Any) -> dict[str, ContractContainer]:
    """Test-only contracts by name (e.g. `ReentrantToken`) as deployable ContractContainers."""
    return {name: ContractContainer(ct) for name, ct in load_test_contract_types(project).items()}
