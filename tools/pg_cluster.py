#!/usr/bin/env python3
"""A throw-away PostgreSQL cluster for the tests: ``start`` prints its URL, ``stop`` removes it.

    tools/pg_cluster.py start          # prints: export LG_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:PORT/postgres
    tools/pg_cluster.py start --json   # {"url": ..., "started": true|false} (false: it was already running)
    tools/pg_cluster.py stop           # stops it and deletes its files; nothing to do is not an error

Both are idempotent, and serialised by a lock file, so two callers never start two clusters. The server is
Debian's (``/usr/lib/postgresql/<version>/bin``, ``make bootstrap`` installs it; ``LG_PG_BIN`` overrides),
listening on a free TCP port of 127.0.0.1 only with trust authentication, its unix socket inside its data
folder; fsync is off (a test cluster has nothing to keep across a crash, and CREATE DATABASE per test is
much faster without it).

``initdb`` refuses to run as root: as root the server runs as the package's ``postgres`` user, and its data
folder is ``.tools/pg/data`` when that user can reach it, else a fresh folder under /tmp (a checkout under
a home folder of mode 700, say). The state (``.tools/pg/cluster.json``) records where it is.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = ROOT / ".tools" / "pg"
STATE_FILE = STATE_DIR / "cluster.json"
SERVER_USER = "postgres"
EXIT_NO_SERVER = 3
NO_SERVER = (
    "PostgreSQL server binaries not found (no initdb in $LG_PG_BIN, /usr/lib/postgresql/*/bin or on PATH): "
    "run `make bootstrap`, which installs Debian's postgresql package"
)


class NoServerError(RuntimeError):
    """No PostgreSQL server to run here."""


def bin_dir() -> Path | None:
    """The newest installed server's bin folder."""
    if override := os.environ.get("LG_PG_BIN"):
        return Path(override)
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return None if on_path is None else Path(on_path).parent


def as_server_user() -> list[str]:
    """The prefix that runs a command as the server's owner: ``postgres`` when we are root, else us."""
    return ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []


def run_as_server(args: list[str], **options: Any) -> subprocess.CompletedProcess[Any]:
    # From /: the caller's folder may be one the server user cannot enter (pg_ctl warns about it).
    return subprocess.run([*as_server_user(), *args], cwd="/", **options)


def reachable_by_server_user(folder: Path) -> bool:
    if os.geteuid() != 0:
        return True
    return run_as_server(["test", "-x", str(folder)], check=False).returncode == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def locked() -> Iterator[None]:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(STATE_DIR / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def read_state() -> dict[str, str] | None:
    try:
        state: dict[str, str] = json.loads(STATE_FILE.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return state


def running(pg_bin: Path, data: Path) -> bool:
    if not (data / "postmaster.pid").exists():
        return False
    status = run_as_server(
        [str(pg_bin / "pg_ctl"), "status", "-D", str(data)],
        check=False,
        capture_output=True,
    )
    return status.returncode == 0


def remove(state: dict[str, str]) -> None:
    shutil.rmtree(state["home"], ignore_errors=True)
    STATE_FILE.unlink(missing_ok=True)


def new_home() -> Path:
    """An empty folder owned by the server user that it can reach."""
    home = STATE_DIR / "cluster"
    if not reachable_by_server_user(STATE_DIR):
        home = Path(tempfile.mkdtemp(prefix="lg-pg-"))
    home.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(home, user.pw_uid, user.pw_gid)
    home.chmod(0o755)
    return home


def start() -> tuple[str, bool]:
    """The running cluster's URL and whether this call started it."""
    pg_bin = bin_dir()
    if pg_bin is None or not (pg_bin / "initdb").exists():
        raise NoServerError(NO_SERVER)
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise NoServerError(f"no {SERVER_USER!r} user: {NO_SERVER}") from None
    with locked():
        state = read_state()
        if state is not None and running(pg_bin, Path(state["data"])):
            return state["url"], False
        if state is not None:  # left by a run that was killed: start afresh
            remove(state)
        home = new_home()
        data = home / "data"
        run_as_server(
            [
                str(pg_bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C.UTF-8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # Only these two lines: trust on loopback TCP and on the socket inside the data folder (mode 700).
        hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        run_as_server(
            ["tee", str(data / "pg_hba.conf")],
            input=hba.encode(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={data}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        run_as_server(
            [
                str(pg_bin / "pg_ctl"),
                "start",
                "-D",
                str(data),
                "-l",
                str(home / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        STATE_FILE.write_text(
            json.dumps({"url": url, "home": str(home), "data": str(data), "bin": str(pg_bin)})
        )
        return url, True


def stop() -> None:
    with locked():
        state = read_state()
        if state is None:
            return
        data = Path(state["data"])
        pg_bin = Path(state["bin"])
        if running(pg_bin, data):
            run_as_server(
                [str(pg_bin / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        remove(state)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--json", action="store_true", help="start: print {url, started} as JSON")
    args = parser.parse_args()
    if args.command == "stop":
        stop()
        return
    try:
        url, started = start()
    except NoServerError as exc:
        print(f"pg_cluster: {exc}", file=sys.stderr)
        sys.exit(EXIT_NO_SERVER)
    except subprocess.CalledProcessError as exc:
        sys.exit(f"pg_cluster: {' '.join(map(str, exc.cmd))} failed with exit {exc.returncode}")
    print(json.dumps({"url": url, "started": started}) if args.json else f"export LG_TEST_DATABASE_URL={url}")


if __name__ == "__main__":
    main()
