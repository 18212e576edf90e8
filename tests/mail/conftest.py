"""A real SMTP server (aiosmtpd) on a free local port, recording what it receives."""

import asyncio
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from tortoise import connections

from conftest import PG_URL, _with_db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """Keeps every message; `delay` slows each delivery down to widen race windows."""

    def __init__(self) -> None:
        self.envelopes = []
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            await asyncio.sleep(self.delay)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=email.policy.default) for e in self.envelopes]


class SMTPServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.recorder = Recorder()
        self.controller: Controller | None = None

    def start(self) -> "SMTPServer":
        """Start (again: a stopped aiosmtpd controller cannot restart, so a new one listens)."""
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(settings, smtp_server):
    return settings.with_overrides(smtp_host="127.0.0.1", smtp_port=smtp_server.port)


@pytest.fixture
def current_db_url(db) -> str:
    """The URL of this test's database, for a `challenge` subprocess to work on the same data."""
    connection = connections.get("default")
    if PG_URL:
        return _with_db(PG_URL, connection.database)
    return f"sqlite:///{connection.filename}"
