"""docs/settings.md is what tools/settings_doc.py generates from KeeperSettings, and shows no secret."""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from keeper.settings import DatabaseUrl

ROOT = Path(__file__).resolve().parents[2]


def settings_doc() -> ModuleType:
    spec = importlib.util.spec_from_file_location("settings_doc", ROOT / "tools" / "settings_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_doc__docs_settings_md__matches_the_model() -> None:
    doc = settings_doc()
    expected = doc.render()
    current = doc.DOC.read_text()

    if current != expected:
        diff = "".join(difflib.unified_diff(current.splitlines(True), expected.splitlines(True), n=1))
        pytest.fail(f"docs/settings.md is out of date: run `{doc.COMMAND}`\n{diff}")


class Example(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EX_", use_attribute_docstrings=True)

    token: SecretStr = SecretStr("do-not-print-me")
    """The API token. Never shown."""
    url: DatabaseUrl | None = None
    workers: int = Field(default=4, ge=1, le=64, description="Threads | at once. 4: enough.")
    mode: str = "fast"


def test_settings_doc__render__one_row_per_setting_and_secrets_masked() -> None:
    rows = settings_doc().render(Example).split("|---|---|---|---|\n")[1]

    assert rows == (
        "| `EX_TOKEN` | secret | *(secret)* | The API token. |\n"
        "| `EX_URL` | secret, optional | *(secret)* |  |\n"
        "| `EX_WORKERS` | integer, ≥ 1, ≤ 64 | `4` | Threads \\| at once. |\n"
        "| `EX_MODE` | string | `fast` |  |\n"
    )


def test_settings_doc__check__exit_1_and_the_command_when_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = settings_doc()
    stale = tmp_path / "docs" / "settings.md"
    stale.parent.mkdir()
    stale.write_text("# Keeper settings\n")
    monkeypatch.setattr(doc, "ROOT", tmp_path)
    monkeypatch.setattr(doc, "DOC", stale)

    assert doc.main(["--check"]) == 1
    assert capsys.readouterr().err == "docs/settings.md is out of date: run `python tools/settings_doc.py`\n"
    assert doc.main([]) == 0
    assert doc.main(["--check"]) == 0
    assert stale.read_text() == doc.render()
