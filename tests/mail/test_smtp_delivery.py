"""Mail through the transactional outbox to a real SMTP server (aiosmtpd on a local port)."""

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
from tortoise.transactions import in_transaction

from challenge.accounts.models import Role
from challenge.app import create_app
from challenge.mail.models import MailStatus, Notification, OutboxMessage
from challenge.mail.services import MAX_ATTEMPTS, deliver_pending, notify, queue_mail
from challenge.web.timefmt import now_utc
from conftest import Client
from factories import make_user


@pytest.fixture
async def smtp_client(db, smtp_settings):
    app = create_app(smtp_settings, manage_orm=False)
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "challenge.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def cli_env(tmp_path, db_url: str, port: int) -> dict:
    return {"CHALLENGE_DATA_DIR": str(tmp_path / "cli-data"), "CHALLENGE_DATABASE_URL": db_url,
            "CHALLENGE_SMTP_HOST": "127.0.0.1", "CHALLENGE_SMTP_PORT": str(port),
            "CHALLENGE_SECRET_KEY": "cli-test-key"}


async def test_password_reset_mail_arrives_over_smtp(smtp_client, smtp_server):
    user = await make_user(Role.BIDDER, email="zhao@example.cn", name="赵六")
    response = await smtp_client.submit("/password/forgot", {"email": "zhao@example.cn"})
    assert response.status_code == 303
    # Delivered after the response, by the same request's middleware.
    assert len(smtp_server.recorder.envelopes) == 1
    envelope = smtp_server.recorder.envelopes[0]
    assert envelope.rcpt_tos == ["zhao@example.cn"]
    assert envelope.mail_from == "noreply@challenge.local"
    raw_headers = envelope.original_content.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii(), "non-ASCII headers must be RFC 2047 encoded"
    assert b"=?utf-8?" in raw_headers.lower()
    message = smtp_server.recorder.messages[0]
    assert message["Subject"] == "重置密码"
    assert message["To"] == "zhao@example.cn"
    assert message["From"].addresses[0].display_name == "揭榜挂帅平台"
    assert message["Message-ID"]
    body = message.get_content()
    assert "您好，赵六" in body and "http://testserver/password/reset/" in body
    row = await OutboxMessage.get(to_address=user.email)
    assert row.status == MailStatus.SENT and row.attempts == 1 and row.sent_at is not None
    # The link in the mail works.
    link = body.split("http://testserver", 1)[1].split()[0]
    assert (await smtp_client.get(link)).status_code == 200


async def test_no_mail_for_an_unknown_address(smtp_client, smtp_server):
    response = await smtp_client.submit("/password/forgot", {"email": "nobody@example.cn"})
    assert response.status_code == 303
    assert smtp_server.recorder.envelopes == []
    assert await OutboxMessage.all().count() == 0


async def test_rolled_back_transaction_leaves_no_outbox_row(db, smtp_settings, smtp_server):
    user = await make_user(Role.BIDDER)
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await notify(user=user, subject="揭榜结果", body="您的申报已入围")
            assert await OutboxMessage.all().count() == 1  # visible inside the transaction
            raise RuntimeError("the event failed after the mail was queued")
    assert await OutboxMessage.all().count() == 0
    assert await Notification.all().count() == 0
    assert await deliver_pending(smtp_settings) == (0, 0)
    assert smtp_server.recorder.envelopes == []


async def test_failed_delivery_stays_pending_and_is_sent_later_by_the_command(
        smtp_client, smtp_server, smtp_settings, current_db_url, tmp_path):
    await make_user(Role.BIDDER, email="qian@example.cn")
    smtp_server.stop()  # the mail server is down
    response = await smtp_client.submit("/password/forgot", {"email": "qian@example.cn"})
    assert response.status_code == 303  # the person is not bothered with the outage
    row = await OutboxMessage.get(to_address="qian@example.cn")
    assert row.status == MailStatus.PENDING and row.attempts == 1 and row.last_error
    assert row.sent_at is None and row.claimed_until > now_utc()  # backing off before a retry

    # While backing off, another round does not hammer the server.
    assert await deliver_pending(smtp_settings) == (0, 0)

    smtp_server.start()  # the server is back
    await OutboxMessage.filter(id=row.id).update(claimed_until=now_utc() - timedelta(seconds=1))  # time passes
    result = run_cli("send-mail", env=cli_env(tmp_path, current_db_url, smtp_server.port))
    assert result.returncode == 0, result.stderr
    assert "sent 1, failed 0" in result.stdout
    await row.refresh_from_db()
    assert row.status == MailStatus.SENT and row.attempts == 2
    assert [m["To"] for m in smtp_server.recorder.messages] == ["qian@example.cn"]
    # Nothing is sent twice.
    assert run_cli("send-mail", env=cli_env(tmp_path, current_db_url, smtp_server.port)).stdout.strip() == "sent 0, failed 0"
    assert len(smtp_server.recorder.envelopes) == 1


async def test_delivery_gives_up_after_max_attempts(db, smtp_settings, smtp_server):
    smtp_server.stop()
    await queue_mail(to="sun@example.cn", subject="提醒", body="截止时间临近")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await deliver_pending(smtp_settings) == (0, 1)
        row = await OutboxMessage.get(to_address="sun@example.cn")
        assert row.attempts == attempt
        await OutboxMessage.filter(id=row.id).update(claimed_until=None)
    assert row.status == MailStatus.FAILED
    smtp_server.start()
    assert await deliver_pending(smtp_settings) == (0, 0)
    assert smtp_server.recorder.envelopes == []


async def test_concurrent_deliveries_never_send_a_message_twice(db, smtp_settings, smtp_server):
    for n in range(12):
        await queue_mail(to=f"p{n}@example.cn", subject=f"通知 {n}", body="正文")
    smtp_server.recorder.delay = 0.02
    results = await asyncio.gather(*(deliver_pending(smtp_settings) for _ in range(3)))
    assert sum(sent for sent, _ in results) == 12 and all(failed == 0 for _, failed in results)
    recipients = sorted(e.rcpt_tos[0] for e in smtp_server.recorder.envelopes)
    assert recipients == sorted(f"p{n}@example.cn" for n in range(12))
    assert await OutboxMessage.filter(status=MailStatus.SENT).count() == 12


async def test_two_send_mail_processes_never_send_a_message_twice(
        db, smtp_server, current_db_url, tmp_path):
    for n in range(30):
        await queue_mail(to=f"q{n}@example.cn", subject=f"通知 {n}", body="正文")
    smtp_server.recorder.delay = 0.02
    env = cli_env(tmp_path, current_db_url, smtp_server.port)
    command = [sys.executable, "-m", "challenge.cli", "send-mail", "--limit", "30"]
    workers = [subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs
    sent = [int(out.split()[1].rstrip(",")) for out, _ in outputs]
    assert sum(sent) == 30
    recipients = [e.rcpt_tos[0] for e in smtp_server.recorder.envelopes]
    assert len(recipients) == len(set(recipients)) == 30
    assert await OutboxMessage.filter(status=MailStatus.SENT).count() == 30
