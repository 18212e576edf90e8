"""Mail queued by a request goes out after it even behind a backlog of more than one batch."""

from challenge.accounts.models import Role
from challenge.mail.middleware import BATCH
from challenge.mail.models import MailStatus, OutboxMessage
from challenge.mail.services import queue_mail
from factories import make_user


async def test_a_backlog_does_not_hold_back_the_newest_mail(client, settings):
    for n in range(BATCH + 20):
        await queue_mail(to=f"old{n}@example.cn", subject="积压", body="正文")
    user = await make_user(Role.BIDDER)
    assert (await client.submit("/password/forgot", {"email": user.email})).status_code == 303
    assert (await OutboxMessage.get(to_address=user.email)).status == MailStatus.SENT
    assert not await OutboxMessage.filter(status=MailStatus.PENDING).exists()
