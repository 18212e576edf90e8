"""Builders for the review area: experts, panels, assignments and scores."""

import hashlib
from decimal import Decimal

from challenge.accounts.models import Organisation, Role, User
from challenge.bids import services as bid_services
from challenge.bids.models import Bid, BidStatus, BidVersion
from challenge.files.models import Blob
from challenge.files.services import attach
from challenge.challenges.models import Challenge, ChallengeStatus
from challenge.reviews import panels, services
from challenge.reviews.models import Assignment, AssignmentStatus, ExpertProfile, Panel
from challenge.web.timefmt import now_utc
from factories import make_bid, make_challenge, make_organiser, make_user


async def make_expert(*, organisation: Organisation | None = None, keywords: str = "", domains=(),
                      **overrides) -> User:
    user = await make_user(Role.EXPERT, organisation=organisation, **overrides)
    profile = await ExpertProfile.create(user=user, organisation=user.organisation, keywords=keywords,
                                         title="教授")
    if domains:
        await profile.domains.add(*domains)
    return user


async def make_review_challenge(**overrides) -> Challenge:
    values = {"status": ChallengeStatus.REVIEWING, "closes_at": now_utc()}
    values.update(overrides)
    return await make_challenge(**values)


async def make_review_bid(challenge: Challenge, **overrides) -> Bid:
    values = {"status": BidStatus.IN_REVIEW}
    values.update(overrides)
    return await make_bid(challenge=challenge, **values)


async def make_panel(*, challenge: Challenge, experts: list[User], chair: User | None = None, stage=None,
                     organiser: User | None = None, **overrides) -> Panel:
    organiser = organiser or await make_organiser()
    values = {"name": "评审专家组", "due_at": None, "dispersion_threshold": Decimal("15")}
    values.update(overrides)
    return await panels.create_panel(
        challenge=challenge, stage=stage, member_ids=[e.id for e in experts],
        chair_id=(chair or experts[0]).id, actor=organiser, **values,
    )


async def assign(panel: Panel, bid: Bid, expert: User,
                 status: AssignmentStatus = AssignmentStatus.ASSIGNED) -> Assignment:
    return await Assignment.create(panel=panel, bid=bid, expert=expert, status=status)


async def submit(assignment: Assignment, values: list, *, opinion: str = "同意") -> Assignment:
    """Submit scores for the panel's criteria in order (values as numbers)."""
    await assignment.fetch_related("panel")
    criteria = await services.rubric_of(assignment.panel)
    expert = await User.get(id=assignment.expert_id)
    return await services.save_scores(
        assignment=assignment, criteria=list(criteria),
        values={c.id: Decimal(str(v)) for c, v in zip(criteria, values)},
        comments={}, opinion=opinion, submit=True, actor=expert,
    )


async def store_file(storage, data: bytes, kind: str, content_type: str) -> Blob:
    writer = await storage.writer()
    await writer.write(data)
    key = await writer.commit()
    return await Blob.create(sha256=hashlib.sha256(data).hexdigest(), size=len(data), kind=kind,
                             content_type=content_type, storage_key=key)


async def make_submitted_version(bid: Bid, *, storage=None, files=(), actor: User | None = None) -> BidVersion:
    """Attach files (category, filename, bytes, kind, content type) and freeze the bid as version 1,
    the way a submission does (the bids area's snapshot and canonical document)."""
    for category, filename, data, kind, content_type in files:
        blob = await store_file(storage, data, kind, content_type)
        await attach(blob=blob, owner=bid, filename=filename, category=category, user=actor)
    copy = await bid_services.working_copy(bid)
    now = now_utc()
    document = bid_services.version_document(bid=bid, version=1, submitted_at=now,
                                             content=bid_services.snapshot(copy))
    text = bid_services.canonical_json(document)
    return await BidVersion.create(bid=bid, version=1, document=text, sha256=bid_services.document_sha256(text),
                                   submitted_at=now, submitted_by=actor)
