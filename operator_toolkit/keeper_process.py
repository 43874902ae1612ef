"""`python -m keeper run` as a child process on the chain this process is connected to: its environment and
its JSON log. Used by `make demo` and by the keeper's process tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NETWORK = "ethereum:local:foundry"
LogRecord = dict[str, Any]


class KeeperProcessError(RuntimeError):
    """The keeper exited or stayed silent where it was expected to log something; names its log file."""

    def __init__(self, log_path: Path, detail: str) -> None:
        super().__init__(f"{detail}; see {log_path}")
        self.log_path = log_path


def keeper_environment(
    settings: Mapping[str, object], provider_uri: str, alias: str, passphrase: str
) -> dict[str, str]:
    """This process's environment without its LG_ settings, plus ``settings`` (names without the LG_ prefix),
    the node to join (ape-foundry connects to a running anvil at APE_FOUNDRY_HOST) and the keystore's
    passphrase for unattended signing."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LG_")}
    env.update({f"LG_{key.upper()}": str(value) for key, value in settings.items()})
    env["APE_FOUNDRY_HOST"] = provider_uri
    env[f"APE_ACCOUNTS_{alias}_PASSPHRASE"] = passphrase
    return env


class KeeperProcess:
    """`python -m keeper run --network ethereum:local:foundry --account ALIAS [--once]`, output to a file."""

    def __init__(self, env: dict[str, str], alias: str, log_path: Path, once: bool = False) -> None:
        self.env = env
        self.alias = alias
        self.log_path = log_path
        self.once = once
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> KeeperProcess:
        args = [
            sys.executable,
            "-m",
            "keeper",
            "run",
            "--network",
            "ethereum:local:foundry",
            "--account",
            self.alias,
        ]
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [*args, "--once"] if self.once else args, cwd=ROOT, env=self.env, stdout=out, stderr=out
            )
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        self._process().send_signal(signal.SIGKILL)
        self._process().wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then the exit code once the keeper has finished its step."""
        if self.running:
            self._process().send_signal(signal.SIGTERM)
        return self._process().wait(timeout=timeout)

    def wait(self, timeout: float) -> int:
        return self._process().wait(timeout=timeout)

    def log_records(self) -> list[LogRecord]:
        """The JSON lines of the log (ape's plain-text lines and a line cut by SIGKILL are skipped)."""
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return records

    def wait_for_log(self, predicate: Callable[[LogRecord], bool], timeout: float) -> LogRecord:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in self.log_records():
                if predicate(record):
                    return record
            if not self.running:
                raise KeeperProcessError(self.log_path, f"the keeper exited ({self._process().returncode})")
            time.sleep(0.1)
        raise KeeperProcessError(self.log_path, f"no matching log line in {timeout:.0f}s")

    def wait_for_message(self, prefix: str, timeout: float) -> LogRecord:
        return self.wait_for_log(lambda record: str(record.get("msg", "")).startswith(prefix), timeout)

    def _process(self) -> subprocess.Popen[bytes]:
        if self.proc is None:
            raise RuntimeError("the keeper process was not started")
        return self.proc

    def __enter__(self) -> KeeperProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.running:
            self.kill()


__all__ = ["KeeperProcess", "KeeperProcessError", "keeper_environment"]
