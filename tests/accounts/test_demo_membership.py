"""Demo accounts become members the way people do: a request approved through the services."""

from challenge import demo
from challenge.accounts.models import Membership, MembershipStatus, User
from challenge.audit.models import AuditEntry


async def test_demo_members_joined_through_approved_requests(db, settings):
    await demo.load(settings)
    members = await User.filter(organisation_id__isnull=False)
    assert len(members) > 10
    for user in members:
        assert await Membership.filter(user_id=user.id, organisation_id=user.organisation_id,
                                       status=MembershipStatus.APPROVED).exists(), user.email
    assert await AuditEntry.filter(action="membership.approved").count() == len(members)
    # The first account of each organisation manages it.
    managers = {user.email for user in members if user.is_org_manager}
    assert {"admin@demo.cn", "submitter@demo.cn", "bidder@demo.cn", "bidder2@demo.cn", "pending@demo.cn"} <= managers
    assert "expert1@demo.cn" in managers  # the only demo account of 浙江大学
    for org_id in {user.organisation_id for user in members}:
        assert await User.filter(organisation_id=org_id, is_org_manager=True).exists()
