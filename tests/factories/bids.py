"""Builders for bid tests: bidders, complete bid content, uploads from bytes, submitted bids."""

from datetime import date, timedelta
from decimal import Decimal

from challenge.accounts.models import Organisation, OrgType, Role, User
from challenge.bids import services
from challenge.bids.forms import BidContent, BudgetInput, MemberInput, MilestoneInput, PartnerInput
from challenge.bids.models import Bid, BidVersion
from challenge.challenges.models import AssessmentTarget, Challenge
from challenge.demo.bids import tiny_pdf, upload_from_bytes
from challenge.files.storage import LocalStorage
from factories import credit_code, make_challenge, make_org, make_user, unique

__all__ = ["tiny_pdf", "upload_from_bytes", "make_bidder", "full_content", "proposal_upload", "storage_of",
           "make_draft", "make_submitted", "make_complete_drafts", "form_fields", "PDF"]

PDF = tiny_pdf("Proposal for tests")


async def make_bidder(organisation: Organisation | None = None, **org_overrides) -> User:
    organisation = organisation or await make_org(org_type=OrgType.UNIVERSITY, region_code="110000", **org_overrides)
    user = await make_user(Role.BIDDER, organisation=organisation)
    await user.fetch_related("organisation")
    return user


def storage_of(settings) -> LocalStorage:
    return LocalStorage(settings.upload_dir)


async def proposal_upload(storage, name: str = "申报书.pdf", data: bytes | None = None, field: str = "file-proposal"):
    data = data if data is not None else tiny_pdf(f"Proposal {unique()}")
    return (field.removeprefix("file-"), await upload_from_bytes(storage, field=field, filename=name, data=data))


async def full_content(challenge: Challenge, *, partners: list[PartnerInput] | None = None,
                       title: str = "联合攻关方案", requested: str = "1000", own: str = "500") -> BidContent:
    targets = await AssessmentTarget.filter(challenge_id=challenge.id).order_by("position", "id")
    start = date.today() + timedelta(days=90)
    return BidContent(
        title=title,
        approach="技术路线：吸收剂筛选、小试、中试、示范",
        foundation="已有千吨级中试平台",
        commitment_accepted=True,
        commitments={t.id: ("≥ 92", "") for t in targets},
        partners=partners if partners is not None else [
            PartnerInput(name="某某环境工程有限公司", org_type="enterprise", credit_code=credit_code(), region_code="320500"),
        ],
        members=[MemberInput(name="张三", title="教授", role="项目负责人", organisation_name="某大学", contact="010-1")],
        milestones=[MilestoneInput(title="中试", due_date=start, deliverable="中试报告")],
        budget=[BudgetInput(item="设备", own_wan=Decimal(own), requested_wan=Decimal(requested))],
    )


async def make_draft(*, challenge: Challenge | None = None, bidder: User | None = None) -> tuple[Bid, User]:
    challenge = challenge or await make_challenge()
    bidder = bidder or await make_bidder()
    bid, _created = await services.start_bid(challenge=challenge, actor=bidder)
    return bid, bidder


async def make_submitted(settings, *, challenge: Challenge | None = None, bidder: User | None = None,
                         content: BidContent | None = None) -> tuple[Bid, User, BidVersion]:
    """A bid submitted once through the services, with a proposal attachment."""
    bid, bidder = await make_draft(challenge=challenge, bidder=bidder)
    challenge = await Challenge.get(id=bid.challenge_id)
    storage = storage_of(settings)
    version = await services.submit_bid(bid=bid, actor=bidder, content=content or await full_content(challenge),
                                        uploads=[await proposal_upload(storage)], storage=storage)
    return await Bid.get(id=bid.id), bidder, version


def form_fields(challenge_targets, *, title: str = "联合攻关方案", partner_code: str | None = None,
                action: str = "save", extra: dict | None = None) -> dict:
    """The fields of a complete bid form as a browser would post them."""
    data = {
        "intent": action,
        "title": title,
        "approach": "技术路线",
        "foundation": "已有基础",
        "commitment_accepted": "1",
        "member-0-name": "张三", "member-0-title": "教授", "member-0-role": "负责人",
        "member-0-organisation_name": "某大学", "member-0-contact": "010-1",
        "milestone-0-title": "中试", "milestone-0-due_date": "2027-06-30", "milestone-0-deliverable": "报告",
        "budget-0-item": "设备", "budget-0-own": "100", "budget-0-requested": "200",
        "budget-1-item": "材料", "budget-1-own": "50.5", "budget-1-requested": "0",
    }
    if partner_code is not None:
        data.update({"partner-0-name": "某某环境工程有限公司", "partner-0-org_type": "enterprise",
                     "partner-0-credit_code": partner_code, "partner-0-region_code": "320500"})
    for target in challenge_targets:
        data[f"target-{target.id}-value"] = "≥ 95"
    data.update(extra or {})
    return data


async def make_complete_drafts(settings, count: int, *, challenge: Challenge | None = None,
                               ) -> tuple[Challenge, list[tuple[User, Bid]]]:
    """`count` bidders of as many organisations, each with a complete draft (proposal attached) ready to submit."""
    challenge = challenge or await make_challenge()
    storage = storage_of(settings)
    content = await full_content(challenge)
    drafts = []
    for _ in range(count):
        bid, bidder = await make_draft(challenge=challenge)
        await services.save_draft(bid=bid, actor=bidder, content=content, uploads=[await proposal_upload(storage)],
                                  storage=storage)
        drafts.append((bidder, bid))
    return challenge, drafts
