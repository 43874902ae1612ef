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
from operator_toolkit.units import units_text


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
    chart = page.get_by_test_id("pool-chart")
    chart.scroll_into_view_if_needed()
    assert page.evaluate("document.querySelector('[data-testid=pool-chart]').naturalWidth") > 0  # it loaded
    _rendered_cleanly(console, "pool")


def test_pool_chart__anvil_pool__svg_of_every_pool_event_up_to_the_head(console: Console, chain: Any) -> None:
    guard = console.world.world.guard

    response = console.page.request.get(console.url + "/pool/free-reserved.svg")

    assert response.status == 200 and response.headers["content-type"] == "image/svg+xml"
    assert response.text().startswith("<?xml") and "<svg" in response.text()
    points = console.source.pool_history()  # what the chart drew
    assert points[0].events == ["Deposited"] and points[0].reserved == 0
    verified = [point for point in points if "ClaimVerified" in point.events]
    assert len(verified) == 1  # one transaction carried the pass's three verdicts
    assert verified[0].reserved == int(guard.reservedAmount(block_id=verified[0].block)) > 0
    last = points[-1]
    assert (last.block, last.timestamp) == (chain.blocks.head.number, chain.blocks.head.timestamp)
    assert (last.total_assets, last.reserved) == (int(guard.totalAssets()), int(guard.reservedAmount()))


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

    assert page.get_by_test_id("keeper-health").inner_text() == "healthy"
    assert page.get_by_test_id("keeper-last-pass").inner_text().endswith(" ago)")
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


def test_proposals_page__scheduled_withdrawal__decoded_with_its_effect_and_a_live_countdown(
    console: Console, chain: Any, gov: Any, signers: list[Any], stranger: Any
) -> None:
    guard = console.world.world.guard
    gov(guard.setExecutionDelay, 2 * 3_600)
    amount = 1_000 * 10**6
    proposal_id = gov.propose(guard.withdraw, stranger, amount)
    guard.confirm(proposal_id, sender=signers[1])  # the threshold: scheduled, readyAt = now + delay
    ready_at = int(guard.getProposal(proposal_id).readyAt)
    left = ready_at - int(chain.blocks.head.timestamp)
    assert left == 2 * 3_600
    page = console.page

    page.goto(console.url + "/proposals")

    card = page.get_by_test_id(f"proposal-{proposal_id}")
    assert card.get_by_test_id("proposal-state").inner_text() == "scheduled"
    actions = card.get_by_test_id("proposal-actions").locator("li").all_inner_texts()
    assert actions == [f"withdraw(to={stranger.address}, amount=1,000 USDT)"]
    assert card.get_by_test_id("proposal-confirmations").inner_text().startswith("2/2 (")
    countdown = card.get_by_test_id("proposal-countdown")
    assert countdown.get_attribute("data-seconds-left") == str(left)
    first = _seconds(countdown.inner_text())
    page.wait_for_timeout(1_500)
    assert left - 5 <= _seconds(countdown.inner_text()) < first  # counting down on the browser's clock
    effect = card.get_by_test_id("proposal-effect")
    free = int(guard.freeBalance())
    row = effect.get_by_role("row", name="freeBalance")
    assert row.locator("td").all_inner_texts() == [
        f"{units_text(free, 6, grouping=True)} USDT",
        f"{units_text(free - amount, 6, grouping=True)} USDT",
    ]
    cancel = f"ape run proposals cancel {proposal_id} --account <your-account>"
    assert card.get_by_text(cancel, exact=True).count() == 1
    _rendered_cleanly(console, "proposals")


def test_auto_refresh__turned_on__reloads_after_15_s_and_stays_on(console: Console) -> None:
    page = console.page
    page.clock.install()
    page.goto(console.url + "/keeper")
    toggle = page.get_by_label("Refresh every 15 s")
    assert not toggle.is_checked()  # off unless the reader turns it on

    toggle.check()
    with page.expect_navigation(timeout=10_000):
        page.clock.run_for(15_000)

    assert page.url == console.url + "/keeper"
    assert page.get_by_label("Refresh every 15 s").is_checked()
    assert console.errors == []


def test_auto_refresh__off__no_reload_after_a_minute(console: Console) -> None:
    page = console.page
    page.clock.install()
    page.goto(console.url + "/keeper")
    page.evaluate("window.stillHere = true")

    page.clock.run_for(60_000)

    assert page.evaluate("window.stillHere") is True  # the same document: nothing reloaded it
