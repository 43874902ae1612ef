"""docs/settings.md, the reference table of the keeper's settings, generated from ``KeeperSettings``.

    python tools/settings_doc.py          # rewrites docs/settings.md
    python tools/settings_doc.py --check  # exit 1 when docs/settings.md differs from the model

Each setting's description is its ``Field(description=...)`` or the docstring under it (the model sets
``use_attribute_docstrings``), first sentence only. A secret's default is never printed, whatever it is.
"""

from __future__ import annotations

import argparse
import re
import sys
import types
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from keeper.settings import KeeperSettings

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "settings.md"
COMMAND = "python tools/settings_doc.py"

HEADER = f"""# Keeper settings

<!-- Generated from KeeperSettings (keeper/settings.py) by `{COMMAND}`: edit the model, then
     run it. tests/keeper/test_settings_doc.py fails while this file differs from what it writes. -->

Every setting is an environment variable (or a line of `.env`) named `LG_` and the setting, in any case. A
variable that starts with `LG_` and names no setting is ignored, and the keeper says so at start-up: a
WARNING per name (never its value), with the setting it is closest to (`keeper.settings.unknown_variables`).
Secrets are masked in the start-up log line, and their defaults are not shown here.

| variable | type | default | description |
|---|---|---|---|
"""

TYPE_NAMES: dict[object, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Path: "path",
    Decimal: "decimal",
}
BOUNDS = ((annotated_types.Gt, "gt", ">"), (annotated_types.Ge, "ge", "≥"))
UPPER_BOUNDS = ((annotated_types.Lt, "lt", "<"), (annotated_types.Le, "le", "≤"))
SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9])")


def render(model: type[BaseSettings] = KeeperSettings) -> str:
    prefix = str(model.model_config.get("env_prefix", ""))
    rows = [
        "| "
        + " | ".join(
            (f"`{prefix}{name.upper()}`", type_of(field), default_of(field), cell(description_of(field)))
        )
        + " |"
        for name, field in model.model_fields.items()
    ]
    return HEADER + "\n".join(rows) + "\n"


def is_secret(annotation: object) -> bool:
    return any(isinstance(a, type) and issubclass(a, SecretStr) for a in (annotation, *get_args(annotation)))


def type_of(field: FieldInfo) -> str:
    annotation = field.annotation
    members = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    named = [name_of(member) for member in members if member is not type(None)]
    text = " or ".join(named) + (", optional" if len(named) < len(members) else "")
    return ", ".join([text, *constraints_of(field)])


def name_of(annotation: object) -> str:
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in get_args(annotation))
    if get_origin(annotation) in (frozenset, set, list, tuple):
        return "comma-separated list"
    if is_secret(annotation):
        return "secret"
    return TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def constraints_of(field: FieldInfo) -> list[str]:
    found = []
    for bounds in (BOUNDS, UPPER_BOUNDS):
        for kind, attribute, sign in bounds:
            for item in field.metadata:
                if isinstance(item, kind):
                    found.append(f"{sign} {value_text(getattr(item, attribute))}")
    for item in field.metadata:
        if isinstance(item, annotated_types.MinLen):
            found.append(f"at least {item.min_length}")
        if isinstance(item, annotated_types.MaxLen):
            found.append(f"at most {item.max_length}")
        if (pattern := getattr(item, "pattern", None)) is not None:
            found.append(f"matching `{pattern}`")
    return found


def default_of(field: FieldInfo) -> str:
    if is_secret(field.annotation):
        return "*(secret)*"
    if field.default is None:
        return "unset"
    return f"`{value_text(field.default)}`"


def value_text(value: Any) -> str:
    """The value as the environment would spell it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (frozenset, set)):
        return ",".join(sorted(str(item) for item in value))
    return str(value)


def description_of(field: FieldInfo) -> str:
    text = " ".join((field.description or "").split())
    return SENTENCE_END.split(text, maxsplit=1)[0]


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/settings.md is out of date")
    args = parser.parse_args(argv)
    expected = render()
    if args.check:
        current = DOC.read_text() if DOC.exists() else ""
        if current != expected:
            print(f"{DOC.relative_to(ROOT)} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(expected)
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
