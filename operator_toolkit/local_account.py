"""Writing an ape keystore (the encrypted key file behind an account alias) for a local keeper."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from eth_typing import HexStr

# Ape's own `ape accounts generate` uses eth-account's default scrypt cost; local demos and tests may ask for
# a lighter one so that unlocking takes milliseconds, never for a key that guards real funds.
LIGHT_SCRYPT_N = 2**12


def write_keystore(
    data_folder: Path, alias: str, private_key: bytes | HexStr, passphrase: str, scrypt_n: int | None = None
) -> Path:
    """Writes ``<data_folder>/accounts/<alias>.json``; ape then loads it with ``accounts.load(alias)``."""
    path = data_folder / "accounts" / f"{alias}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    keyfile = Account.encrypt(private_key, passphrase, kdf="scrypt", iterations=scrypt_n)
    # Written aside and renamed: another ape process listing accounts/*.json never reads a half-written file.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(keyfile))
    partial.chmod(0o600)
    partial.replace(path)
    return path
