"""The expert pool: invitations by e-mail, profiles, self-declared conflicts."""

import re
from datetime import timedelta

from challenge.accounts.models import Role, User
from challenge.audit.models import AuditEntry
from challenge.bids.models import BidPartner, BidStatus, TeamMember
from challenge.catalog.models import Domain
from challenge.mail.models import OutboxMessage
from challenge.reviews.conflicts import reasons_for
from challenge.reviews.models import (
    AssignmentStatus,
    Availability,
    ConflictDeclaration,
    ExpertInvitation,
    ExpertProfile,
)
from challenge.web.timefmt import now_utc
from factories import domains, make_org, make_organiser, make_user
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge

LINK = re.compile(r"/review/invitations/([\w-]+)")


async def _invite(client, email="new.expert@univ.cn", name="林教授"):
    organiser = await make_organiser()
    await client.login(organiser.email)
    response = await client.submit("/review/manage/experts/invite", {
        "email": email, "name": name, "organisation_name": "东方理工大学", "title": "教授"})
    assert response.status_code == 303
    mail = await OutboxMessage.get(to_address=email)
    token = LINK.search(mail.body).group(1)
    await client.submit("/logout")
    return organiser, token


async def test_invitation_creates_an_expert_account(client):
    organiser, token = await _invite(client)
    invitation = await ExpertInvitation.get(email="new.expert@univ.cn")
    assert invitation.token_hash != token and len(invitation.token_hash) == 64  # only the hash is stored
    page = await client.get(f"/review/invitations/{token}")
    assert page.status_code == 200 and "林教授" in page.text and 'name="password"' in page.text
    response = await client.submit(f"/review/invitations/{token}", {"password": "short", "password_confirm": "short"})
    assert response.status_code == 400 and "密码至少需要" in response.text
    assert not await User.filter(email="new.expert@univ.cn").exists()
    response = await client.submit(f"/review/invitations/{token}", {"password": "expert-pass-2025",
                                                                    "password_confirm": "expert-pass-2025"})
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/review/profile"
    user = await User.get(email="new.expert@univ.cn")
    assert user.is_expert and not user.is_bidder and user.name == "林教授"
    profile = await ExpertProfile.get(user=user)
    assert profile.organisation_name == "东方理工大学" and profile.title == "教授"
    assert await AuditEntry.filter(action="expert.accept").exists()
    # Single use.
    assert (await client.get(f"/review/invitations/{token}")).status_code == 404
    await client.login("new.expert@univ.cn", "expert-pass-2025")
    assert (await client.get("/review/profile")).status_code == 200


async def test_invitation_for_an_existing_user_adds_the_role(client):
    bidder = await make_user(Role.BIDDER)
    _organiser, token = await _invite(client, email=bidder.email, name=bidder.name)
    page = await client.get(f"/review/invitations/{token}")
    assert "原密码登录" in page.text and 'name="password"' not in page.text
    assert (await client.submit(f"/review/invitations/{token}", {})).status_code == 303
    await bidder.refresh_from_db()
    assert bidder.is_expert and bidder.is_bidder


async def test_expired_or_unknown_invitations_are_refused(client):
    _organiser, token = await _invite(client)
    await ExpertInvitation.filter(email="new.expert@univ.cn").update(expires_at=now_utc() - timedelta(minutes=1))
    assert (await client.get(f"/review/invitations/{token}")).status_code == 404
    response = await client.submit(f"/review/invitations/{token}", {"password": "expert-pass-2025",
                                                                    "password_confirm": "expert-pass-2025"})
    assert response.status_code == 404 and not await User.filter(email="new.expert@univ.cn").exists()
    assert (await client.get("/review/invitations/not-a-token")).status_code == 404


async def test_invite_errors(client):
    organiser = await make_organiser()
    expert = await make_expert()
    await client.login(organiser.email)
    response = await client.submit("/review/manage/experts/invite", {"email": "not-an-email", "name": ""})
    assert response.status_code == 400 and "有效的电子邮箱" in response.text and "此项为必填项" in response.text
    response = await client.submit("/review/manage/experts/invite", {"email": expert.email, "name": "某"})
    assert response.status_code == 400 and "已在专家库中" in response.text
    assert not await ExpertInvitation.exists()
    page = await client.get("/review/manage/experts?q=" + expert.name)
    assert page.status_code == 200 and expert.email in page.text


async def test_profile_domains_keywords_and_availability(client):
    expert = await make_expert()
    all_domains = await domains()
    await client.login(expert.email)
    response = await client.submit("/review/profile", [
        ("organisation_name", "东方理工大学"), ("title", "研究员"), ("keywords", "二氧化碳捕集，余热回收"),
        ("availability", Availability.LIMITED.value), ("domains", str(all_domains[0].id)),
        ("domains", str(all_domains[5].id)), ("credit_code", "")])
    assert response.status_code == 303
    profile = await ExpertProfile.get(user=expert).prefetch_related("domains")
    assert profile.keywords == "二氧化碳捕集，余热回收" and profile.availability == Availability.LIMITED
    assert sorted(d.id for d in profile.domains) == sorted([all_domains[0].id, all_domains[5].id])
    page = await client.get("/review/profile")
    assert "二氧化碳捕集，余热回收" in page.text
    assert page.text.count("checked") >= 3  # two domains and the availability
    response = await client.submit("/review/profile", [("availability", "bogus"), ("credit_code", "123"),
                                                       ("domains", "99999")])
    assert response.status_code == 400 and "统一社会信用代码无效" in response.text
    assert (await ExpertProfile.get(user=expert)).keywords == "二氧化碳捕集，余热回收"
    assert await Domain.all().count() == len(all_domains)


async def test_declared_conflicts_are_kept_and_enforced(client):
    expert = await make_expert()
    challenge = await make_review_challenge()
    bid = await make_review_bid(challenge)
    panel = await make_panel(challenge=challenge, experts=[expert])
    item = await assign(panel, bid, expert)
    lead = await bid.lead_org
    await client.login(expert.email)
    response = await client.submit("/review/conflicts", {"kind": "organisation", "organisation_id": "",
                                                         "name": "", "credit_code": ""})
    assert response.status_code == 400 and "请选择单位，或填写单位名称" in response.text
    response = await client.submit("/review/conflicts", {"kind": "person", "name": "", "email": ""})
    assert response.status_code == 400 and not await ConflictDeclaration.exists()
    response = await client.submit("/review/conflicts", {"kind": "organisation", "organisation_id": str(lead.id),
                                                         "reason": "近三年合作单位"})
    assert response.status_code == 303
    declaration = await ConflictDeclaration.get(expert=expert)
    assert declaration.organisation_id == lead.id
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.REVOKED and "本人申报了与申报单位的利益冲突" in item.reason
    page = await client.get("/review/conflicts")
    assert lead.name in page.text and "近三年合作单位" in page.text
    # Withdrawing one's own declaration; another expert's is not reachable.
    other = await make_expert()
    theirs = await ConflictDeclaration.create(expert=other, kind="person", name="某某")
    assert (await client.submit(f"/review/conflicts/{theirs.id}/delete")).status_code == 404
    assert (await client.submit(f"/review/conflicts/{declaration.id}/delete")).status_code == 303
    assert await ConflictDeclaration.filter(id=theirs.id).exists()
    assert not await ConflictDeclaration.filter(id=declaration.id).exists()


async def test_conflict_with_a_person_by_name_or_email(client):
    expert = await make_expert()
    bid = await make_review_bid(await make_review_challenge())
    await TeamMember.create(bid=bid, name="赵明", email="zhao.ming@lab.cn", organisation_name="某研究所")
    assert await reasons_for(expert_id=expert.id, bid=bid) == []
    await client.login(expert.email)
    await client.submit("/review/conflicts", {"kind": "person", "name": "", "email": "ZHAO.MING@lab.cn",
                                              "reason": "学生"})
    assert await reasons_for(expert_id=expert.id, bid=bid) == ["本人申报了与团队成员的利益冲突"]


async def test_computed_conflicts_in_words(db):
    own_org = await make_org(name="华东碳中和研究院")
    expert = await make_expert(organisation=own_org)
    challenge = await make_review_challenge()
    bid = await make_review_bid(challenge)
    assert await reasons_for(expert_id=expert.id, bid=bid) == []
    # An unregistered partner with the expert's organisation's name.
    await BidPartner.create(bid=bid, name="华东碳中和研究院", org_type="institute")
    assert await reasons_for(expert_id=expert.id, bid=bid) == ["本人所在单位是联合申报单位"]
    await BidPartner.all().delete()
    # A team member linked by e-mail.
    await TeamMember.create(bid=bid, name=expert.name, email=expert.email.upper())
    assert await reasons_for(expert_id=expert.id, bid=bid) == ["本人是申报团队成员"]
    await TeamMember.all().delete()
    # His organisation leads another bid on the same challenge.
    await make_review_bid(challenge, lead_org=own_org)
    assert await reasons_for(expert_id=expert.id, bid=bid) == ["本人所在单位牵头申报了同一榜单"]
    # A draft never submitted does not count.
    other_challenge = await make_review_challenge()
    second = await make_review_bid(other_challenge)
    await make_review_bid(other_challenge, lead_org=own_org, status=BidStatus.DRAFT)
    assert await reasons_for(expert_id=expert.id, bid=second) == []
