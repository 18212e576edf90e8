import pytest

from challenge.accounts import passwords


@pytest.fixture(autouse=True)
def cheap_password_hashing(settings):
    """Factories hash a password per user: keep it cheap here too (the `app` fixture does the same)."""
    passwords.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port (the mail tests' one)."""
    from mail.conftest import SMTPServer

    server = SMTPServer().start()
    yield server
    server.stop()
