"""A bidder's mail about an amendment says what was amended, before → after, in the bidder's
language; a resubmitted need reaches the organisers as a resubmission, not as a new need."""

from decimal import Decimal

import pytest

from challenge.accounts.models import Role, User
from challenge.challenges import services
from challenge.mail.models import Notification, OutboxMessage
from challenge.needs import services as needs
from challenge.needs.models import NeedStatus
from factories import make_bid, make_organiser, make_user
from factories.challenges import make_published
from factories.needs import make_complete_need, make_submitter

pytestmark = pytest.mark.usefixtures("db")


async def test_amendment_mail_lists_the_changes():
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    bidder = await make_user(Role.BIDDER)
    english = await make_user(Role.BIDDER)
    await User.filter(id=english.id).update(locale="en")
    await make_bid(challenge=challenge, lead_org=bidder.organisation)
    await make_bid(challenge=challenge, lead_org=english.organisation)
    data = await services.load_data(challenge)
    data.funding_wan = Decimal("3500")
    await services.amend_challenge(challenge=challenge, data=data, actor=organiser, explanation="榜单金额调整")
    note = await Notification.get(user=bidder)
    assert "榜单金额调整" in note.body and "修改内容" in note.body
    assert "榜单金额：" in note.body and "→" in note.body and "3500" in note.body.replace(",", "")
    mail = await OutboxMessage.get(to_address=bidder.email)
    assert "修改内容" in mail.body
    body = (await Notification.get(user=english)).body  # written in the recipient's language
    assert "Challenge funding" in body and "Changes" in body


async def test_resubmitted_need_is_not_mailed_as_new():
    organiser = await make_organiser()
    submitter = await make_submitter()
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.SUBMITTED)
    await needs.set_need_status(need=need, status=NeedStatus.RETURNED, actor=organiser, reason="请补充指标")
    await needs.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=submitter)
    subjects = await Notification.filter(user=organiser).values_list("subject", flat=True)
    assert any("重新提交" in s for s in subjects) and not any("新的技术需求" in s for s in subjects)
