"""Organisation membership (issue #8, defect 1): joining an organisation is a request that a
manager of that organisation (or an organiser) decides; until then the account sees nothing."""

import pytest

from challenge.accounts import membership
from challenge.accounts.models import Membership, MembershipStatus, Role, User
from challenge.audit.models import AuditEntry
from challenge.errors import DomainError
from challenge.mail.models import Notification, OutboxMessage
from factories import make_bid, make_challenge, make_need, make_org, make_organiser, make_user


async def registered(client, org, email="joiner@example.cn") -> User:
    """Register with `org_mode=existing` and confirm the address: a signed-in, pending account."""
    response = await client.submit("/register", {
        "role": "bidder", "name": "申请人", "email": email, "password": "a-good-passw0rd",
        "password_confirm": "a-good-passw0rd", "org_mode": "existing", "organisation_id": str(org.id), "agree": "1"})
    assert response.status_code == 200
    mail = await OutboxMessage.filter(to_address=email).order_by("-id").first()
    path = next(w for w in mail.body.split() if "/register/confirm/" in w).replace("http://testserver", "")
    assert (await client.submit(path)).status_code == 303
    return await User.get(email=email)


async def world():
    org = await make_org(name="中国科学院过程工程研究所")
    manager = await make_user(Role.SUBMITTER, Role.BIDDER, organisation=org, is_org_manager=True)
    colleague = await make_user(Role.BIDDER, organisation=org)
    bid = await make_bid(challenge=await make_challenge(), lead_org=org)
    need = await make_need(organisation=org)
    return org, manager, colleague, bid, need


async def test_registering_into_an_organisation_grants_nothing_until_approved(client, make_client):
    org, manager, colleague, bid, need = await world()
    joiner = await registered(client, org)
    assert joiner.organisation_id is None
    for path in (f"/bids/{bid.id}", f"/bids/{bid.id}/edit", "/bids/"):
        response = await client.get(path)
        assert response.status_code in {403, 404} or bid.title not in response.text, path
    assert (await client.submit(f"/bids/{bid.id}/withdraw", {"reason": "x"})).status_code == 404
    # The managers are told (inbox and mail); the colleague is not asked.
    assert await Notification.filter(user_id=manager.id, subject__contains="申请加入").exists()
    assert await OutboxMessage.filter(to_address=manager.email, subject__contains="申请加入").exists()
    assert not await Notification.filter(user_id=colleague.id).exists()

    boss = make_client()
    await boss.login(manager.email)
    page = await boss.get("/organisation")
    assert page.status_code == 200 and "joiner@example.cn" in page.text and "通过申请" in page.text
    request = await Membership.get(user_id=joiner.id)
    assert (await boss.submit(f"/organisation/requests/{request.id}/approve")).status_code == 303
    await joiner.refresh_from_db()
    assert joiner.organisation_id == org.id
    assert (await client.get(f"/bids/{bid.id}")).status_code == 200
    # The requester hears the outcome, the members hear of the newcomer; all of it is audited.
    assert await Notification.filter(user_id=joiner.id, subject__contains="您已加入").exists()
    assert await Notification.filter(user_id=colleague.id, subject__contains="已加入本单位").exists()
    assert await AuditEntry.filter(action="membership.request").exists()
    assert await AuditEntry.filter(action="membership.approved", actor_id=manager.id).exists()


async def test_a_rejected_request_needs_a_reason_and_tells_the_requester(client, make_client):
    org, manager, _colleague, _bid, _need = await world()
    joiner = await registered(client, org)
    request = await Membership.get(user_id=joiner.id)
    boss = make_client()
    await boss.login(manager.email)
    await boss.submit(f"/organisation/requests/{request.id}/reject", {"reason": ""})
    assert (await Membership.get(id=request.id)).status == MembershipStatus.PENDING
    await boss.submit(f"/organisation/requests/{request.id}/reject", {"reason": "查无此人"})
    request = await Membership.get(id=request.id)
    assert request.status == MembershipStatus.REJECTED and request.reason == "查无此人"
    assert request.decided_by_id == manager.id and request.decided_at is not None
    assert await Notification.filter(user_id=joiner.id, subject__contains="未通过", body="查无此人").exists()
    assert (await User.get(id=joiner.id)).organisation_id is None
    # Decided once: a second decision changes nothing.
    await boss.submit(f"/organisation/requests/{request.id}/approve")
    assert (await User.get(id=joiner.id)).organisation_id is None


async def test_only_managers_of_that_organisation_or_organisers_decide(client, make_client):
    org, manager, colleague, _bid, _need = await world()
    other_manager = await make_user(Role.BIDDER, is_org_manager=True)
    joiner = await registered(client, org)
    request = await Membership.get(user_id=joiner.id)
    for person in (colleague, other_manager):
        browser = make_client()
        await browser.login(person.email)
        assert (await browser.submit(f"/organisation/requests/{request.id}/approve")).status_code == 404
        if person is colleague:
            page = await browser.get("/organisation")
            assert "joiner@example.cn" not in page.text and "通过申请" not in page.text
    # The joiner cannot approve himself either.
    assert (await client.submit(f"/organisation/requests/{request.id}/approve")).status_code == 404
    assert (await Membership.get(id=request.id)).status == MembershipStatus.PENDING
    organiser = await make_organiser()
    office = make_client()
    await office.login(organiser.email)
    page = await office.get(f"/admin/organisations/{org.id}")
    assert page.status_code == 200 and "joiner@example.cn" in page.text
    response = await office.submit(f"/organisation/requests/{request.id}/approve")
    assert response.headers["location"] == f"/admin/organisations/{org.id}"
    assert (await User.get(id=joiner.id)).organisation_id == org.id


async def test_removing_a_member_ends_their_access_and_sessions(client, make_client):
    org, manager, colleague, bid, _need = await world()
    await client.login(colleague.email)
    assert (await client.get(f"/bids/{bid.id}")).status_code == 200
    boss = make_client()
    await boss.login(manager.email)
    response = await boss.submit(f"/organisation/members/{colleague.id}/remove", {"reason": "已离职"})
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 303  # signed out everywhere
    await client.login(colleague.email)
    assert (await client.get(f"/bids/{bid.id}")).status_code == 404
    assert (await User.get(id=colleague.id)).organisation_id is None
    assert await Membership.filter(user_id=colleague.id, status=MembershipStatus.REMOVED).exists()
    assert await AuditEntry.filter(action="membership.removed").exists()


async def test_the_last_manager_stays(client):
    org, manager, colleague, _bid, _need = await world()
    await client.login(manager.email)
    await client.submit(f"/organisation/members/{manager.id}/remove")
    await client.submit(f"/organisation/members/{manager.id}/manager", {"manager": "0"})
    manager = await User.get(id=manager.id)
    assert manager.organisation_id == org.id and manager.is_org_manager
    # With a second manager, the first may step down.
    await client.submit(f"/organisation/members/{colleague.id}/manager", {"manager": "1"})
    assert (await User.get(id=colleague.id)).is_org_manager
    await client.submit(f"/organisation/members/{manager.id}/manager", {"manager": "0"})
    assert not (await User.get(id=manager.id)).is_org_manager
    assert await AuditEntry.filter(action="membership.manager").count() == 2


async def test_organisers_grant_and_revoke_the_manager_flag(client):
    org, manager, colleague, _bid, _need = await world()
    organiser = await make_organiser()
    await client.login(organiser.email)
    await client.submit(f"/organisation/members/{colleague.id}/manager", {"manager": "1"})
    assert (await User.get(id=colleague.id)).is_org_manager
    await client.submit(f"/organisation/members/{manager.id}/manager", {"manager": "0"})
    assert not (await User.get(id=manager.id)).is_org_manager
    assert await Notification.filter(user_id=colleague.id, subject__contains="管理人").exists()


async def test_a_plain_member_cannot_manage(client):
    org, manager, colleague, _bid, _need = await world()
    await client.login(colleague.email)
    assert (await client.submit(f"/organisation/members/{colleague.id}/manager", {"manager": "1"})).status_code == 404
    assert (await client.submit(f"/organisation/members/{manager.id}/remove")).status_code == 404
    assert not (await User.get(id=colleague.id)).is_org_manager


async def test_the_requester_may_withdraw(client):
    org, manager, _colleague, _bid, _need = await world()
    joiner = await registered(client, org)
    page = await client.get("/organisation")
    assert "加入申请待审核" in page.text
    assert (await client.submit("/organisation/request/withdraw")).status_code == 303
    assert (await Membership.get(user_id=joiner.id)).status == MembershipStatus.WITHDRAWN
    # Free to ask another organisation now.
    assert (await client.get("/account/organisation")).status_code == 200


async def test_a_second_request_while_one_is_pending_is_refused(db):
    org, _manager, _colleague, _bid, _need = await world()
    person = await make_user(Role.BIDDER, organisation=None)
    await User.filter(id=person.id).update(organisation_id=None)
    person = await User.get(id=person.id)
    await membership.request_membership(user=person, organisation=org)
    with pytest.raises(DomainError, match="待审核"):
        await membership.request_membership(user=person, organisation=await make_org())
    assert await Membership.filter(user_id=person.id).count() == 1
