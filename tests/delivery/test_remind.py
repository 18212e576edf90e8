"""`challenge remind` mails teams before a milestone is due and organisers once it is overdue:
run twice in a row, it sends each reminder once (a real SMTP server, the real command)."""

import os
import subprocess
import sys

from tortoise import connections

from challenge.delivery.models import Reminder, ReminderKind
from conftest import PG_URL, TEST_AUDIT_KEY, _with_db
from factories.delivery import make_project
from factories.reviews import make_expert


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "challenge.cli", *args], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def _database_url() -> str:
    connection = connections.get("default")
    return _with_db(PG_URL, connection.database) if PG_URL else f"sqlite:///{connection.filename}"


async def test_remind_twice_sends_each_reminder_once(db, settings, smtp_server, tmp_path):
    made = await make_project(settings, milestone_days=(-2, 3, 40))  # overdue, due within a week, later
    await make_expert()  # an expert without tasks: no review reminder
    env = {"CHALLENGE_DATA_DIR": str(tmp_path / "cli"), "CHALLENGE_DATABASE_URL": _database_url(),
           "CHALLENGE_SMTP_HOST": "127.0.0.1", "CHALLENGE_SMTP_PORT": str(smtp_server.port),
           "CHALLENGE_SECRET_KEY": "cli-test-key", "CHALLENGE_AUDIT_KEY": TEST_AUDIT_KEY,
           "CHALLENGE_MILESTONE_REMINDER_DAYS": "7"}
    _cli("send-mail", env=env)  # what the project's start queued
    smtp_server.recorder.envelopes.clear()
    first = _cli("remind", env=env).stdout
    assert "sent 1 reminder(s) of milestones due within 7 days to teams and 1 reminder(s) of overdue" in first
    _cli("send-mail", env=env)
    second = _cli("remind", env=env).stdout
    assert "sent 0 reminder(s)" in second and "and 0 reminder(s) of overdue" in second
    _cli("send-mail", env=env)
    received = sorted((m["To"], m["Subject"]) for m in smtp_server.recorder.messages)
    assert received == sorted([(made.team.email, f"节点即将到期：{made.project.title}"),
                               (made.organiser.email, f"节点已逾期：{made.project.title}")])
    body = next(m for m in smtp_server.recorder.messages if m["To"] == made.team.email).get_content()
    assert "“节点2”将于" in body and f"/delivery/projects/{made.project.id}#milestone-{made.milestones[1].id}" in body
    assert {(r.kind, r.milestone_id) for r in await Reminder.all()} == {
        (ReminderKind.MILESTONE_DUE, made.milestones[1].id), (ReminderKind.MILESTONE_OVERDUE, made.milestones[0].id)}
