"""Log set-up: one JSON object per line when stderr is not a terminal (journald, shippers), else text."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal, TextIO

LogFormat = Literal["auto", "json", "text"]

# Attributes every LogRecord has; anything else was passed with `extra=` and goes into the JSON object.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD:
                body[key] = value
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str, separators=(",", ":"))


def configure_logging(log_format: LogFormat, level: str, stream: TextIO | None = None) -> None:
    """Replaces the root handlers; `auto` picks JSON unless the stream is a terminal."""
    target = stream if stream is not None else sys.stderr
    use_json = log_format == "json" or (log_format == "auto" and not target.isatty())
    handler = logging.StreamHandler(target)
    handler.setFormatter(
        JsonFormatter() if use_json else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def quiet_ape_logging(level: str) -> None:
    """Ape logs through its own handler in its own format; route it through ours, warnings and up only.

    Call after importing ape (which installs its handler). Its per-transaction "Using cached key" warning
    repeats for every signature of an unlocked keystore and says nothing an operator needs.
    """
    ape_logger = logging.getLogger("ape")
    ape_logger.handlers.clear()
    ape_logger.propagate = True
    ape_logger.setLevel(max(logging.WARNING, logging.getLevelName(level)))
    ape_logger.addFilter(lambda record: not record.getMessage().startswith("Using cached key"))
