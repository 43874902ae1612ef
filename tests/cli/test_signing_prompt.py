"""On a terminal, with an encrypted keystore account, the signer sees what is signed and ape's prompts.

`ape run proposals confirm` runs as a real subprocess on a pty (pexpect), against the test session's anvil:
the effect table, the call being sent, ape's "Sign:" question and its passphrase prompt must all appear, and
answering them sends the confirmation.
"""

from __future__ import annotations

import io
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest
from support.pool import USDT, Governance

from operator_toolkit.local_account import LIGHT_SCRYPT_N, write_keystore

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"
TIMEOUT = 180  # a cold `ape run` on a shared two-core machine


@pytest.fixture
def keystore_signer(accounts: Any, guard: Any, signers: list[Any]) -> Iterator[tuple[str, Any]]:
    """A fourth multisig signer held only as an encrypted ape keystore (passphrase PASSPHRASE), funded."""
    from ape import config

    account = accounts.generate_test_account()
    alias = f"lg_test_{uuid.uuid4().hex[:10]}"
    write_keystore(Path(config.DATA_FOLDER), alias, account.private_key, PASSPHRASE, LIGHT_SCRYPT_N)
    signers[0].transfer(account, 10**18)
    Governance(guard, signers)(guard.addSigner, account)
    yield alias, account  # the keystore stays: see tests/keeper/conftest.py keystore_validator


def _spawn(chain: Any, *args: str) -> pexpect.spawn:
    ape = str(Path(sys.executable).with_name("ape"))
    # The subprocess's ape-foundry connects to the session's anvil instead of starting its own.
    env = {**os.environ, "APE_FOUNDRY_HOST": str(chain.provider.uri), "COLUMNS": "200"}
    child = pexpect.spawn(
        ape, ["run", *args, "--network", "ethereum:local:foundry"], cwd=str(ROOT), env=env,
        encoding="utf-8", timeout=TIMEOUT, dimensions=(50, 200),
    )  # fmt: skip
    child.logfile_read = io.StringIO()  # the whole transcript, for the asserts after EOF
    return child


def _transcript(child: pexpect.spawn) -> str:
    log = child.logfile_read
    assert isinstance(log, io.StringIO)
    return log.getvalue()


def test_proposals_confirm__keystore_on_pty__prompts_visible_and_answer_sends(
    guard: Any, signers: list[Any], keystore_signer: tuple[str, Any], chain: Any
) -> None:
    alias, account = keystore_signer
    data = guard.setMaxPayoutPerClaim.encode_input(4_000 * USDT)
    proposal_id = int(guard.propose(guard, 0, data, sender=signers[0]).return_value)
    nonce = account.nonce

    child = _spawn(
        chain, "proposals", "confirm", str(proposal_id), "--account", alias, "--guard", guard.address
    )
    child.expect_exact(f"You are confirming proposal #{proposal_id}:")
    child.expect_exact("setMaxPayoutPerClaim(maxPayout=4,000 USDT)")
    child.expect_exact("Effect if executed now")
    child.expect_exact("maxPayoutPerClaim")
    child.expect_exact(
        f"Transaction from {account.address} to {guard.address}: confirm(proposalId={proposal_id})"
    )
    child.expect_exact("Sign:")
    child.sendline("y")
    child.expect_exact(f"Enter passphrase to unlock '{alias}'")
    child.sendline(PASSPHRASE)
    child.expect_exact(f"Leave '{alias}' unlocked?")
    child.sendline("n")
    child.expect_exact(f"Confirmed #{proposal_id}: 2/2 confirmations")
    child.expect(pexpect.EOF)
    child.close()

    transcript = _transcript(child)
    assert child.exitstatus == 0, transcript
    assert PASSPHRASE not in transcript  # typed, never echoed
    assert "Traceback" not in transcript
    assert account.nonce == nonce + 1
    assert guard.hasConfirmed(proposal_id, account)


def test_proposals_confirm__keystore_on_pty__declined__nothing_sent(
    guard: Any, signers: list[Any], keystore_signer: tuple[str, Any], chain: Any
) -> None:
    alias, account = keystore_signer
    data = guard.setMaxPayoutPerClaim.encode_input(4_000 * USDT)
    proposal_id = int(guard.propose(guard, 0, data, sender=signers[0]).return_value)
    nonce, height = account.nonce, chain.blocks.height

    child = _spawn(
        chain, "proposals", "confirm", str(proposal_id), "--account", alias, "--guard", guard.address
    )
    child.expect_exact("Sign:")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()

    transcript = _transcript(child)
    assert child.exitstatus == 1, transcript
    assert "Error: The transaction was not signed." in transcript.splitlines()[-1], transcript
    assert (account.nonce, chain.blocks.height) == (nonce, height)
    assert not guard.hasConfirmed(proposal_id, account)
