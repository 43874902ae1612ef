"""The simulated exchanges for the keeper bench, in a process of their own.

Real exchanges are remote: their CPU is not the keeper's. In the keeper's process the simulator's threads
(HTTP parsing, routing, JSON) would compete with the keeper for Python's GIL and slow its chain work, a cost
no production keeper pays. So ``RemoteSim.start`` runs ``python -m bench.sim_process SCENARIOS LATENCY_MS``,
which serves the scenarios with the published limits and counts every request per rate-limit key; the bench
reads the counts over HTTP (``GET /__bench/counts``) when it computes the ceiling. ``CLIENT_IPS`` (comma
separated, optional) adds a listener per simulated client address (``SimExchange.add_client_ip``): each of
several keepers on this host gets its own, so each has its own per-IP budget, as on hosts of their own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

COUNTS_PATH = "/__bench/counts"
BINANCE_WEIGHT = "binance weight"
"""The rate-limit key of Binance's weight per IP (its scope is the client IP)."""
ROOT = Path(__file__).resolve().parent.parent


def rate_limit_keys(path: str, query: str, headers: Any, client_ip: str) -> list[tuple[str, str]]:
    """The (limit name, scope) keys one request counts against, once per unit (Binance: per weight unit)."""
    params = dict(parse_qsl(query))
    if path.startswith("/api/v5/"):
        endpoint = path.removeprefix("/api/v5/")
        user = headers.get("OK-ACCESS-KEY", "")
        if endpoint == "trade/order":
            scope = f"{user}:{params.get('instId', '')}"
        elif endpoint == "public/instruments":  # per IP and instType
            scope = f"{client_ip}:{params.get('instType', '')}"
        else:
            scope = user
        return [(f"okx {endpoint}", scope)]
    if path.startswith("/fapi/"):
        from keeper.sim.binance import BINANCE_WEIGHTS

        endpoint = path.removeprefix("/fapi/v1/")
        weight = BINANCE_WEIGHTS.get(endpoint) or (20 if params.get("symbol") else 50)
        return [(f"binance {endpoint}", "requests")] + [(BINANCE_WEIGHT, client_ip)] * weight
    if path.startswith("/v5/"):
        # Bybit counts per UID and endpoint and per IP (600 per 5 s).
        endpoint = path.removeprefix("/v5/")
        return [(f"bybit {endpoint}", headers.get("X-BAPI-API-KEY", "")), ("bybit ip", client_ip)]
    return []


def _recording_sim_class() -> Any:
    from keeper.sim.server import SimExchange
    from keeper.sim.wire import Reply

    class RecordingSim(SimExchange):
        """Counts requests per rate-limit key (the simulator's own log has paths only)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.hits: Counter[tuple[str, str]] = Counter()
            self.statuses: Counter[int] = Counter()
            self.binance_minutes: Counter[tuple[str, int]] = Counter()
            """Binance weight per (IP, clock minute on the simulator's clock): what each budget spent."""
            self._hits_lock = threading.Lock()

        def route(self, raw_path: str, headers: Any, client_ip: str) -> Any:
            parts = urlsplit(raw_path)
            if parts.path == COUNTS_PATH:
                with self._hits_lock:
                    hits = [[name, scope, n] for (name, scope), n in self.hits.items()]
                    statuses = {str(status): n for status, n in self.statuses.items()}
                    minutes = [[ip, minute, n] for (ip, minute), n in self.binance_minutes.items()]
                return Reply(200, {"hits": hits, "statuses": statuses, "binance_minutes": minutes})
            minute = int(self.state.now_ms() // 60_000)
            reply = super().route(raw_path, headers, client_ip)
            keys = rate_limit_keys(parts.path, parts.query, headers, client_ip)
            with self._hits_lock:
                for key in keys:
                    self.hits[key] += 1
                    if key[0] == BINANCE_WEIGHT:
                        self.binance_minutes[(key[1], minute)] += 1
                self.statuses[int(reply.status)] += 1
            return reply

    return RecordingSim


class RemoteSim:
    """The bench's handle on the simulator process: its URL, its request counts, and stopping it."""

    def __init__(self, process: subprocess.Popen[str], url: str, client_urls: dict[str, str]) -> None:
        self.process = process
        self.url = url
        self.client_urls = client_urls
        """Simulated client IP -> the URL whose requests count as coming from it."""

    @classmethod
    def start(
        cls, scenarios: Any, folder: Path, latency_ms: int, client_ips: tuple[str, ...] = ()
    ) -> RemoteSim:
        path = folder / "scenarios.json"
        scenarios.dump(path)
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.sim_process", str(path), str(latency_ms), ",".join(client_ips)],
            stdout=subprocess.PIPE,
            # Not the bench child's stderr: the driver reads that to its end, and would wait on this process.
            stderr=(folder / "sim.log").open("w"),
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            process.kill()
            raise RuntimeError(f"the simulator process did not start (said {url!r})")
        client_urls: dict[str, str] = {}
        for _ in client_ips:
            ip, client_url = process.stdout.readline().split()
            client_urls[ip] = client_url
        return cls(process, url, client_urls)

    def _counts_body(self) -> Any:
        with urllib.request.urlopen(self.url + COUNTS_PATH, timeout=30) as response:
            return json.loads(response.read())

    def counts(self) -> tuple[Counter[tuple[str, str]], Counter[int]]:
        """Requests per rate-limit key, and replies per HTTP status, so far."""
        body = self._counts_body()
        hits: Counter[tuple[str, str]] = Counter({(name, scope): n for name, scope, n in body["hits"]})
        return hits, Counter({int(status): n for status, n in body["statuses"].items()})

    def binance_minutes(self) -> dict[int, int]:
        """Binance weight per clock minute (unix seconds // 60) so far, over every IP."""
        body = self._counts_body()
        minutes: Counter[int] = Counter()
        for _ip, minute, weight in body["binance_minutes"]:
            minutes[int(minute)] += int(weight)
        return dict(minutes)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main(argv: list[str]) -> int:
    from keeper.sim.faults import FaultConfig
    from keeper.sim.scenarios import ScenarioFile
    from keeper.sim.server import SimLimits

    scenarios_path, latency_ms = Path(argv[0]), int(argv[1])
    client_ips = [ip for ip in (argv[2] if len(argv) > 2 else "").split(",") if ip]
    sim = _recording_sim_class()(
        ScenarioFile.load(scenarios_path), faults=FaultConfig(latency_ms=latency_ms), limits=SimLimits()
    )
    client_urls = [f"{ip} {sim.add_client_ip(ip)}" for ip in client_ips]

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=sim.httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    parent = os.getppid()

    def stop_with_parent() -> None:  # a bench child that crashes never leaves its simulator behind
        while os.getppid() == parent:
            time.sleep(1)
        sim.httpd.shutdown()

    threading.Thread(target=stop_with_parent, daemon=True).start()
    print("\n".join([sim.url, *client_urls]), flush=True)
    sim.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
