"""Screenshots of every console page on the demo's chain, for the README and docs/console.md.

    .venv/bin/python tools/console_screenshots.py [--out docs/console]

Runs ``ape run demo`` in a pseudo-terminal (so that it serves the console and waits for Enter), drives
Debian's chromium through Playwright over Pool, Proposals, Claims, one approved claim, its Re-check evidence
and Keeper, writes ``NAME.png`` for each (laptop width, and ``NAME-phone.png`` of Pool and Proposals at a
phone's width), then presses Enter so that the demo ends.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
URL_LINE = re.compile(rb"The console: (http://127\.0\.0\.1:\d+)/")
DEMO_TIMEOUT_SECONDS = 600
LAPTOP = (1280, 900)
PHONE = (390, 844)


class ScreenshotError(RuntimeError):
    pass


def _wait_for_console(fd: int, process: subprocess.Popen[bytes]) -> str:
    seen = b""
    deadline = time.monotonic() + DEMO_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ScreenshotError(f"the demo exited ({process.returncode}) before serving the console")
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                seen += os.read(fd, 65_536)
            except OSError:  # the terminal closed: the demo is ending
                continue
            match = URL_LINE.search(re.sub(rb"\x1b\[[0-9;]*m", b"", seen))
            if match:
                return match.group(1).decode()
    raise ScreenshotError(f"no console address from the demo in {DEMO_TIMEOUT_SECONDS}s")


def _screenshots(url: str, out: Path) -> list[Path]:
    from playwright.sync_api import ViewportSize, sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise ScreenshotError("Debian's chromium is missing: run `make bootstrap`")
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_page(viewport=ViewportSize(width=LAPTOP[0], height=LAPTOP[1]))
        page.goto(url + "/claims?status=Paid")
        claim = page.locator("tbody tr th a").first.inner_text().removeprefix("#")
        pages = {
            "pool": "/",
            "proposals": "/proposals",
            "claims": "/claims",
            "claim": f"/claims/{claim}",
            "check": f"/claims/{claim}/check",
            "keeper": "/keeper",
        }
        for name, path in pages.items():
            page.goto(url + path)
            written.append(out / f"{name}.png")
            page.screenshot(path=str(written[-1]), full_page=False)
        phone = browser.new_page(viewport=ViewportSize(width=PHONE[0], height=PHONE[1]))
        for name in ("pool", "proposals"):
            phone.goto(url + pages[name])
            written.append(out / f"{name}-phone.png")
            phone.screenshot(path=str(written[-1]), full_page=False)
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    leader, follower = pty.openpty()
    ape = ROOT / ".venv" / "bin" / "ape"
    command = [str(ape), "run", "demo", "--network", "ethereum:local:foundry"]
    process = subprocess.Popen(command, cwd=ROOT, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    try:
        url = _wait_for_console(leader, process)
        for path in _screenshots(url, args.out):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        os.write(leader, b"\n")
        return process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)


if __name__ == "__main__":
    sys.exit(main())
