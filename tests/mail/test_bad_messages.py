"""A message that cannot be sent never blocks the others (issue #8, defect 7)."""

from challenge.accounts.models import Role
from challenge.mail.models import MailStatus, OutboxMessage
from challenge.mail.services import deliver_pending, notify, queue_mail
from factories import make_user


async def test_header_values_are_cleaned_when_queued(db, settings):
    user = await make_user(Role.SUBMITTER, email="li@example.cn")
    await notify(user=user, subject="需求已提交：钢铁余热\r\nBcc: victim@example.org\n回收")
    row = await OutboxMessage.get(to_address="li@example.cn")
    assert "\r" not in row.subject and "\n" not in row.subject
    assert row.subject == "需求已提交：钢铁余热 Bcc: victim@example.org 回收"
    assert await deliver_pending(settings) == (1, 0)
    await row.refresh_from_db()
    assert row.status == MailStatus.SENT
    written = (settings.mail_dir / f"{row.id:08d}.eml").read_bytes()
    assert b"\nBcc:" not in written


async def test_a_message_that_cannot_be_built_fails_and_the_batch_goes_on(db, settings):
    first = await queue_mail(to="a@example.cn", subject="一", body="正文")
    # A row written before cleaning existed (or by hand): the subject breaks EmailMessage.
    broken = await OutboxMessage.create(to_address="b@example.cn", subject="坏\r\n标题", body="正文")
    last = await queue_mail(to="c@example.cn", subject="三", body="正文")
    assert await deliver_pending(settings) == (2, 1)
    for row in (first, broken, last):
        await row.refresh_from_db()
    assert first.status == MailStatus.SENT and last.status == MailStatus.SENT
    assert broken.status == MailStatus.FAILED and broken.attempts == 1
    assert "ValueError" in broken.last_error
    # Nothing is left to retry: the next round sends nothing and raises nothing.
    assert await deliver_pending(settings) == (0, 0)
