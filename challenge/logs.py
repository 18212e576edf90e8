"""Logging for `challenge serve`: uvicorn's plain lines, or JSON lines for a log collector.

CHALLENGE_LOG_FORMAT=json writes one JSON object per line: access lines on stdout (client,
method, path, status), everything else (start-up, errors with their traceback) on stderr.
"""

import json
import logging
from datetime import datetime, timezone

import uvicorn.config

ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonFormatter(logging.Formatter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Python's warnings (a library's deprecation notice at import) become log lines too,
        # in every worker process that configures this formatter: no plain text in the stream.
        logging.captureWarnings(True)

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            entry.update(zip(ACCESS_FIELDS, record.args))
            entry["message"] = "{method} {path} {status}".format(**entry)
        else:
            entry["message"] = record.getMessage()
        for name in ("method", "path"):
            if name in record.__dict__ and name not in entry:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(log_format: str) -> dict:
    """A `logging.config.dictConfig` for uvicorn (and the app's own loggers in JSON mode)."""
    if log_format == "text":
        return uvicorn.config.LOGGING_CONFIG
    if log_format != "json":
        raise RuntimeError(f"unknown log format {log_format!r}: use 'text' or 'json'")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "challenge.logs.JsonFormatter"}},
        "handlers": {
            "errors": {"formatter": "json", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            "access": {"formatter": "json", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
        },
        "root": {"handlers": ["errors"], "level": "INFO"},
        "loggers": {
            "uvicorn": {"handlers": ["errors"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "tortoise": {"level": "WARNING"},
        },
    }
