"""Notifications are written in the recipient's language, not the language of whoever acted."""

from challenge.accounts.models import Role, User
from challenge.mail.models import Notification, OutboxMessage
from challenge.needs.models import NeedStatus
from factories import make_organiser, make_user
from factories.needs import make_complete_need


async def test_english_organiser_returns_a_need_to_a_chinese_submitter(client, make_client):
    submitter = await make_user(Role.SUBMITTER)
    english_reader = await make_user(Role.SUBMITTER, organisation=submitter.organisation)
    await User.filter(id=english_reader.id).update(locale="en")
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.SUBMITTED)
    organiser = await make_organiser()
    await User.filter(id=organiser.id).update(locale="en")
    await client.login(organiser.email)
    response = await client.submit(f"/needs/{need.id}/screen", {"decision": "return", "reason": "请补充技术指标"})
    assert response.status_code == 303
    chinese = await Notification.get(user_id=submitter.id)
    english = await Notification.get(user_id=english_reader.id)
    assert chinese.subject.startswith("技术需求被退回修改") and "请补充技术指标" in chinese.body
    assert english.subject.startswith("Technology need returned for revision")
    assert "技术需求被退回修改" not in english.subject
    mail = await OutboxMessage.get(to_address=english_reader.email)
    assert "技术需求被退回修改" not in mail.subject
