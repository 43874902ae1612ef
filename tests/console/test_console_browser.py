"""The console end to end in a real browser: the pool and the keeper's decided claims on anvil, served by
the console app, read by Debian's chromium through Playwright. Every page must render without a console
error; screenshots go to .build/console/."""

from __future__ import annotations

import re
import sqlite3
import zlib
from typing import Any

from conftest import SCREENSHOTS, Console

from keeper.store import SqliteStore
from ops.units import units_text


def _seconds(text: str) -> int:
    match = re.fullmatch(r"(?:(\d+)h )?(?:(\d+)m )?(\d+)s", text)
    assert match is not None, text
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3_600 + minutes * 60 + seconds


def _rendered_cleanly(console: Console, name: str) -> None:
    """The page's screenshot saved to .build/console/NAME.png, and no console error logged on the way."""
    console.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert console.errors == []


def test_pool_page__anvil_pool__shows_the_exact_free_balance(console: Console) -> None:
    page = console.page
    guard = console.world.world.guard

    page.goto(console.url + "/")

    assert page.title() == "Pool · LeverageGuard console"
    free, reserved = int(guard.freeBalance()), int(guard.reservedAmount())
    assert reserved > 0  # the approval holds its payout
    assert page.get_by_test_id("pool-free").inner_text() == units_text(free, 6, grouping=True)
    assert page.get_by_test_id("pool-reserved").inner_text() == units_text(reserved, 6, grouping=True)
    _rendered_cleanly(console, "pool")


def test_claims_page__approval_in_window__listed_first_with_time_left(console: Console, chain: Any) -> None:
    page = console.page
    approved = console.world.approved
    view = console.world.world.guard.getClaim(approved.claim_id)
    left = int(view.payableAt) - int(chain.blocks.head.timestamp)
    assert left > 60  # the challenge window is open: nothing has paid the claim

    page.goto(console.url + "/claims")

    window_rows = page.get_by_test_id("in-window").locator("tbody tr")
    assert window_rows.count() == 1
    first = window_rows.first
    assert first.locator("th").inner_text() == f"#{approved.claim_id}"
    countdown = first.locator(".countdown")
    assert countdown.get_attribute("data-seconds-left") == str(left)
    # The script counts down on the browser's clock from the server's figure: at most a few seconds gone.
    assert left - 5 <= _seconds(countdown.inner_text()) <= left
    other_ids = page.get_by_test_id("others").locator("tbody tr th").all_inner_texts()
    assert sorted(other_ids) == sorted(f"#{f.claim_id}" for f in console.world.rejected)
    _rendered_cleanly(console, "claims")


def test_claim_page__approved_claim__verdict_and_evidence_hash_from_the_store(console: Console) -> None:
    page = console.page
    approved = console.world.approved
    view = console.world.world.guard.getClaim(approved.claim_id)
    store = SqliteStore(console.world.store_path)
    stored = store.decision(approved.claim_id)
    store.close()
    assert stored is not None

    page.goto(console.url + "/claims")
    page.get_by_role("link", name=f"#{approved.claim_id}", exact=True).first.click()

    assert page.url == f"{console.url}/claims/{approved.claim_id}"
    assert page.get_by_test_id("claim-status").inner_text() == "Approved"
    assert page.get_by_test_id("claim-verdict").inner_text() == "approved"
    assert page.get_by_test_id("claim-payout").inner_text() == units_text(int(view.payout), 6, grouping=True)
    assert page.get_by_test_id("claim-evidence-hash").inner_text() == stored.decision.evidence_hash
    veto = f"ape run propose cancel-claim {approved.claim_id} --reason guardian_veto --account <your-account>"
    assert page.get_by_text(veto, exact=True).count() == 1
    _rendered_cleanly(console, "claim")


def test_keeper_page__after_one_pass__claims_by_state_and_its_transactions(console: Console) -> None:
    page = console.page

    page.goto(console.url + "/keeper")

    assert page.get_by_role("row", name="posted 3").count() == 1
    verdicts = page.get_by_role("row").filter(has=page.get_by_role("cell", name="verify", exact=True))
    assert verdicts.count() == 1  # one transaction carried the pass's three verdicts
    assert verdicts.get_by_role("cell", name="1, 2, 3", exact=True).count() == 1
    page.keyboard.press("Tab")  # the skip link comes first and is reachable by keyboard
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    _rendered_cleanly(console, "keeper")


def test_claim_page__re_check_evidence__every_step_agrees_with_the_chain(console: Console) -> None:
    page = console.page
    approved = console.world.approved

    page.goto(f"{console.url}/claims/{approved.claim_id}")
    page.get_by_role("button", name="Re-check evidence").click()

    assert page.url == f"{console.url}/claims/{approved.claim_id}/check?"  # a GET form with no fields
    assert page.get_by_test_id("check-summary").inner_text() == "every step agrees"
    steps = page.locator("tbody tr th").all_inner_texts()
    assert steps == ["bundle", "answers", "policy", "replay", "decision", "record", "hash", "chain"]
    assert page.get_by_text("DISAGREES", exact=True).count() == 0
    _rendered_cleanly(console, "check")


def test_claim_page__re_check_evidence__one_stored_byte_changed__fails_at_the_answers_step(
    console: Console,
) -> None:
    approved = console.world.approved
    connection = sqlite3.connect(console.world.store_path)
    with connection:
        seq, blob = connection.execute(
            "SELECT seq, body FROM answers WHERE claim_id = ? ORDER BY seq LIMIT 1", (approved.claim_id,)
        ).fetchone()
        body = bytearray(zlib.decompress(blob))
        body[len(body) // 2] ^= 0x01  # one bit of one byte of the exchange's answer, its digest kept
        connection.execute(
            "UPDATE answers SET body = ? WHERE claim_id = ? AND seq = ?",
            (zlib.compress(bytes(body)), approved.claim_id, seq),
        )
    connection.close()
    page = console.page

    page.goto(f"{console.url}/claims/{approved.claim_id}")
    page.get_by_role("button", name="Re-check evidence").click()

    assert page.get_by_test_id("check-summary").inner_text() != "every step agrees"
    failed = page.locator("tbody tr", has=page.get_by_text("DISAGREES", exact=True))
    assert failed.locator("th").all_inner_texts()[0] == "answers"
    _rendered_cleanly(console, "check-tampered")
