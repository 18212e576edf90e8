"""A consortium change is handed to the reviews area, which revokes assignments it conflicts."""

from challenge.accounts.models import Role
from challenge.bids import services
from challenge.bids.forms import PartnerInput
from challenge.challenges.models import Challenge
from challenge.reviews.models import Assignment, AssignmentStatus, Panel
from factories import make_org, make_organiser, make_user
from factories.bids import full_content, make_submitted


async def test_adding_the_experts_organisation_as_partner_revokes_the_assignment(db, settings):
    bid, bidder, _ = await make_submitted(settings)
    challenge = await Challenge.get(id=bid.challenge_id)
    employer = await make_org(name="某能源集团")
    expert = await make_user(Role.EXPERT, organisation=employer)
    panel = await Panel.create(challenge=challenge, name="评审组", created_by=await make_organiser())
    assignment = await Assignment.create(panel=panel, bid=bid, expert=expert, status=AssignmentStatus.ASSIGNED)

    # A change that does not touch the consortium leaves the assignment alone.
    content = await full_content(challenge, title="只改标题", partners=[])
    await services.save_draft(bid=bid, actor=bidder, content=content)
    content.title = "再改标题"
    await services.save_draft(bid=bid, actor=bidder, content=content)
    assert (await Assignment.get(id=assignment.id)).status == AssignmentStatus.ASSIGNED

    content.partners = [*content.partners, PartnerInput(organisation_id=employer.id)]
    await services.save_draft(bid=bid, actor=bidder, content=content)
    revoked = await Assignment.get(id=assignment.id)
    assert revoked.status == AssignmentStatus.REVOKED and "冲突" in revoked.reason
