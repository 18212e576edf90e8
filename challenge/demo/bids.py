"""Demo bids in every state up to the review, with consortia, small real attachments, versions
and receipts (the results demo gives the reviewed ones their outcomes).

Bids on challenges whose window is over are replayed as they happened: submitted through the
bid services at a time inside the window (the challenge shows as published for that moment),
then checked and decided by the organiser. 清华大学 (bidder@demo.cn) is left without a bid on the
open 揭榜挂帅 challenge, so a visitor can walk through a whole bid there.

`ctx.extra["bids"]` maps each challenge key (as in `ctx.extra["challenges"]`) to its bids.
"""

import hashlib
import secrets
from contextlib import asynccontextmanager
from datetime import date, timedelta
from decimal import Decimal

from challenge.accounts import passwords
from challenge.accounts.credit_code import complete
from challenge.accounts.models import Organisation, OrgType, User
from challenge.audit import services as audit
from challenge.bids import services
from challenge.bids.forms import BidContent, BudgetInput, MemberInput, MilestoneInput, PartnerInput
from challenge.bids.models import AttachmentCategory, Bid, BidStatus
from challenge.challenges.models import AssessmentTarget, Challenge, ChallengeStatus, Mechanism
from challenge.demo.base import join
from challenge.files import sniff
from challenge.files.storage import make_storage
from challenge.files.uploads import UploadedFile
from challenge.web.timefmt import now_utc

DEMO_PASSWORD = "demo-password-2025"

# Bidder accounts for the organisations that bid in the demo (bidder@ and bidder2@ exist already).
BIDDERS = {
    "清华大学": "bidder@demo.cn",
    "中国科学院过程工程研究所": "bidder2@demo.cn",
    "宝武低碳冶金科技有限公司": "enterprise@demo.cn",
    "浙江大学": "zju-bidder@demo.cn",
    "华中科技大学": "hust-bidder@demo.cn",
    "宁德新能源循环科技有限公司": "cath-bidder@demo.cn",
    "中国科学院大连化学物理研究所": "dicp-bidder@demo.cn",
}
NEW_BIDDER_NAMES = {
    "zju-bidder@demo.cn": ("林副教授", "副教授"),
    "hust-bidder@demo.cn": ("何教授", "教授"),
    "cath-bidder@demo.cn": ("蔡总监", "研发总监"),
    "dicp-bidder@demo.cn": ("邓研究员", "研究员"),
}

# (challenge key, lead organisation, final state, partners, number of revisions)
PLAN = [
    ("open_call_open", "中国科学院过程工程研究所", BidStatus.SUBMITTED, ["华能清洁能源集团有限公司", "*"], 2),
    ("open_call_open", "浙江大学", BidStatus.WITHDRAWN, ["海螺绿色建材股份有限公司"], 1),
    ("open_call_open", "宁德新能源循环科技有限公司", BidStatus.FORMAL_FAILED, ["华中科技大学"], 1),
    ("open_call_open", "华中科技大学", BidStatus.DRAFT, ["宁德新能源循环科技有限公司"], 0),
    ("horse_race_open", "清华大学", BidStatus.DRAFT, ["宝武低碳冶金科技有限公司"], 0),
    ("horse_race_open", "中国科学院过程工程研究所", BidStatus.SUBMITTED, [], 1),
    ("horse_race_open", "宝武低碳冶金科技有限公司", BidStatus.SUBMITTED, ["*"], 1),
    ("closed_window", "清华大学", BidStatus.SUBMITTED, ["宁德新能源循环科技有限公司"], 1),
    ("closed_window", "宁德新能源循环科技有限公司", BidStatus.FORMAL_FAILED, [], 1),
    ("closed_window", "中国科学院过程工程研究所", BidStatus.IN_REVIEW, ["*"], 2),
    ("reviewing", "清华大学", BidStatus.IN_REVIEW, ["宝武低碳冶金科技有限公司"], 1),
    ("reviewing", "中国科学院过程工程研究所", BidStatus.IN_REVIEW, ["*"], 1),
    ("reviewing", "宝武低碳冶金科技有限公司", BidStatus.IN_REVIEW, [], 2),
    # In review here; the reviews and results demos take them through the notice and the announcement.
    ("notice", "中国科学院过程工程研究所", BidStatus.IN_REVIEW, ["宝武低碳冶金科技有限公司"], 1),
    ("notice", "清华大学", BidStatus.IN_REVIEW, [], 1),
    ("notice", "宝武低碳冶金科技有限公司", BidStatus.IN_REVIEW, ["*"], 1),
    ("objection", "宁德新能源循环科技有限公司", BidStatus.IN_REVIEW, ["*"], 1),
    ("objection", "华中科技大学", BidStatus.IN_REVIEW, ["宁德新能源循环科技有限公司"], 1),
    ("objection", "中国科学院过程工程研究所", BidStatus.IN_REVIEW, [], 2),
    ("announced", "清华大学", BidStatus.IN_REVIEW, ["*"], 1),
    ("announced", "中国科学院过程工程研究所", BidStatus.IN_REVIEW, [], 1),
    ("race", "中国科学院过程工程研究所", BidStatus.IN_REVIEW, [], 1),
    ("race", "宝武低碳冶金科技有限公司", BidStatus.IN_REVIEW, ["中国科学院大连化学物理研究所"], 1),
    ("race", "清华大学", BidStatus.IN_REVIEW, ["*"], 1),
    ("accepted", "中国科学院过程工程研究所", BidStatus.IN_REVIEW, ["*"], 1),
    ("accepted", "宁德新能源循环科技有限公司", BidStatus.IN_REVIEW, [], 1),
]
UNREGISTERED_PARTNER = PartnerInput(name="内蒙古绿碳环境工程技术有限公司", org_type=OrgType.ENTERPRISE.value,
                                    credit_code=complete("91150600MA0Q00078"), region_code="150600")
FORMAL_FAIL_REASONS = {
    "open_call_open": "承诺函缺少联合单位华中科技大学的盖章页；请补充后在截止前重新提交。",
    "closed_window": "未提供牵头单位近三年财务审计报告，不符合揭榜条件第 3 条的材料要求。",
}
APPROACHES = [
    "采用“新型复合吸收剂 + 高效规整填料 + 系统热集成”的技术路线：第一年完成吸收剂筛选和小试，"
    "第二年完成中试验证，第三年建成工业示范装置并完成第三方性能测试。",
    "以自主研发的核心工艺为基础，联合上下游企业开展工程放大：建立数字孪生模型指导参数优化，"
    "分阶段验证关键指标，形成可推广的成套技术与装备。",
]
FOUNDATION = ("团队近五年承担国家重点研发计划项目 3 项，授权发明专利 26 件；已建成千吨级中试平台，"
              "连续运行超过 2000 小时；与示范企业有长期合作基础。")


def tiny_pdf(title: str) -> bytes:
    """A small, valid one-page PDF (ASCII text in Helvetica), with a correct cross-reference table."""
    text = title.encode("ascii", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 16 Tf 72 770 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


async def upload_from_bytes(storage, *, field: str, filename: str, data: bytes) -> UploadedFile:
    """A finished upload, as `receive_upload` would hand it over, from bytes made in code."""
    extension, problem = sniff.check(filename, data[: sniff.SNIFF_BYTES], ("pdf", "docx", "xlsx", "zip", "png"))
    if problem:
        raise ValueError(f"{filename}: not a valid file of its type")
    writer = await storage.writer()
    await writer.write(data)
    return UploadedFile(field=field, filename=filename, extension=extension, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), writer=writer)


async def _bidders(ctx) -> dict[str, User]:
    """The demo bidder of each organisation, created when missing."""
    result = {}
    password_hash = None
    for org_name, email in BIDDERS.items():
        user = ctx.users.get(email) or await User.get_or_none(email=email)
        if user is None:
            organisation = ctx.orgs.get(org_name) or await Organisation.get(name=org_name)
            name, title = NEW_BIDDER_NAMES[email]
            password_hash = password_hash or passwords.hash_password(DEMO_PASSWORD)
            user = await User.create(email=email, name=name, title=title, password_hash=password_hash,
                                     is_bidder=True)
            await audit.record(actor=None, action="user.create", obj=user,
                               after={"email": email, "roles": ["bidder"]}, note="demo")
            await join(ctx, user, organisation)
        if not user.is_bidder:
            user.is_bidder = True
            await user.save(update_fields=["is_bidder"])
        await user.fetch_related("organisation")
        ctx.users[email] = user
        result[org_name] = user
    return result


async def _fallback_challenge(ctx) -> dict[str, Challenge]:
    """Without the challenges demo: one open 揭榜挂帅 challenge of our own (created once)."""
    title = "高效低成本二氧化碳捕集技术（申报演示）"
    challenge = await Challenge.get_or_none(title=title)
    if challenge is None:
        now = now_utc()
        challenge = await Challenge.create(
            mechanism=Mechanism.OPEN_CALL, title=title, summary="面向燃煤电厂烟气的低能耗碳捕集技术",
            status=ChallengeStatus.PUBLISHED, funding_wan=Decimal("3000"), opens_at=now - timedelta(days=10),
            closes_at=now + timedelta(days=30), published_at=now - timedelta(days=10),
            domain=ctx.domains[5] if len(ctx.domains) > 5 else None,
        )
        for position, (name, value, unit) in enumerate([("捕集率", "≥90", "%"), ("再生能耗", "≤2.3", "GJ/t")]):
            await AssessmentTarget.create(challenge=challenge, position=position, name=name, target_value=value,
                                          unit=unit, verification="第三方性能测试")
    return {"open_call_open": challenge}


def _content(challenge: Challenge, targets, lead: User, partners: list[PartnerInput], revision: int,
             start: date) -> BidContent:
    org = lead.organisation
    members = [
        MemberInput(name=lead.name, title=lead.title or "教授", role="项目负责人", organisation_name=org.name,
                    contact="010-6278" + str(1000 + lead.id)[-4:], email=lead.email),
        MemberInput(name="王工程师", title="高级工程师", role="中试与工程放大", organisation_name=org.name,
                    contact="13800000000"),
        MemberInput(name="李博士", title="副研究员", role="工艺模拟与系统优化", organisation_name=org.name,
                    contact="13900000000"),
    ]
    funding = Decimal(challenge.funding_wan or 1000)
    requested = (funding * Decimal("0.6")).quantize(Decimal("1"))
    return BidContent(
        title=f"{org.name}牵头：{challenge.title}揭榜方案" + (f"（修订{revision}）" if revision > 1 else ""),
        approach=APPROACHES[challenge.id % 2] + (f"\n\n第 {revision} 版修订：根据答疑补充了测试工况说明。"
                                                  if revision > 1 else ""),
        foundation=FOUNDATION,
        commitment_accepted=True,
        commitments={t.id: (t.target_value.replace("≥", "≥ ").replace("≤", "≤ "), "优于或达到榜单要求")
                     for t in targets},
        partners=partners,
        members=members,
        milestones=[
            MilestoneInput(title="完成小试与关键技术验证", due_date=start + timedelta(days=365),
                           deliverable="小试报告、关键参数"),
            MilestoneInput(title="完成中试放大", due_date=start + timedelta(days=730), deliverable="中试运行报告"),
            MilestoneInput(title="建成示范工程并通过第三方测试", due_date=start + timedelta(days=1000),
                           deliverable="第三方性能测试报告、验收材料"),
        ],
        budget=[
            BudgetInput(item="设备购置与改造", own_wan=(requested * Decimal("0.5")).quantize(Decimal("1")),
                        requested_wan=(requested * Decimal("0.5")).quantize(Decimal("1"))),
            BudgetInput(item="材料、测试化验加工", own_wan=Decimal("200"),
                        requested_wan=(requested * Decimal("0.3")).quantize(Decimal("1"))),
            BudgetInput(item="人员与劳务", own_wan=Decimal("150"),
                        requested_wan=requested - (requested * Decimal("0.5")).quantize(Decimal("1"))
                        - (requested * Decimal("0.3")).quantize(Decimal("1"))),
        ],
    )


@asynccontextmanager
async def _as_published(challenge: Challenge):
    """Replay submissions made while the window was open: the challenge reads as published."""
    status = challenge.status
    if status != ChallengeStatus.PUBLISHED:
        await Challenge.filter(id=challenge.id).update(status=ChallengeStatus.PUBLISHED)
        challenge.status = ChallengeStatus.PUBLISHED
    try:
        yield
    finally:
        if status != ChallengeStatus.PUBLISHED:
            await Challenge.filter(id=challenge.id).update(status=status)
            challenge.status = status


def _partners(names: list[str], ctx) -> list[PartnerInput]:
    return [UNREGISTERED_PARTNER if name == "*" else PartnerInput(organisation_id=ctx.orgs[name].id) for name in names]


async def load(ctx, settings) -> None:
    storage = make_storage(settings)
    bidders = await _bidders(ctx)
    admin = ctx.users.get("admin@demo.cn") or await User.get(email="admin@demo.cn")
    challenges = ctx.extra.get("challenges") or await _fallback_challenge(ctx)
    # The same signed commitment-letter scan in several bids: stored once (by its SHA-256).
    letter = tiny_pdf("Consortium commitment letter - signed and sealed")
    made: dict[str, list[Bid]] = {}
    for key, org_name, final, partner_names, submissions in PLAN:
        challenge = challenges.get(key)
        if challenge is None or challenge.status == ChallengeStatus.DRAFT or challenge.closes_at is None:
            continue
        lead = bidders[org_name]
        if await Bid.filter(challenge_id=challenge.id, lead_org_id=lead.organisation_id).exists():
            continue
        bid = await _make_bid(challenge, lead, _partners(partner_names, ctx), final, submissions, storage, letter)
        await _decide(bid, key, final, admin)
        made.setdefault(key, []).append(await Bid.get(id=bid.id))
    ctx.extra["bids"] = made


async def _make_bid(challenge, lead, partners, final, submissions, storage, letter) -> Bid:
    now = now_utc()
    window_open = services.window_open(challenge, now)
    # Past windows: act a few days before the close; open ones: now.
    moment = now if window_open else challenge.closes_at - timedelta(days=4)
    targets = await AssessmentTarget.filter(challenge_id=challenge.id).order_by("position", "id")
    start = (challenge.closes_at + timedelta(days=60)).date()
    async with _as_published(challenge):
        bid, _created = await services.start_bid(challenge=challenge, actor=lead, now=moment)
        proposal = await upload_from_bytes(storage, field="file-proposal", filename=f"申报书-{bid.number}.pdf",
                                           data=tiny_pdf(f"Proposal {bid.number} - {secrets.token_hex(4)}"))
        commitment = await upload_from_bytes(storage, field="file-commitment", filename="联合体承诺函.pdf",
                                             data=letter)
        qualification = await upload_from_bytes(storage, field="file-qualification", filename="资质证明.pdf",
                                                data=tiny_pdf(f"Qualifications of {lead.organisation.id}"))
        uploads = [(AttachmentCategory.PROPOSAL.value, proposal), (AttachmentCategory.COMMITMENT.value, commitment),
                   (AttachmentCategory.QUALIFICATION.value, qualification)]
        content = _content(challenge, targets, lead, partners, 1, start)
        if submissions == 0:
            await services.save_draft(bid=bid, actor=lead, content=content, uploads=uploads, storage=storage,
                                      now=moment)
            return bid
        await services.submit_bid(bid=bid, actor=lead, content=content, uploads=uploads, storage=storage,
                                  now=moment - timedelta(days=submissions))
        for revision in range(2, submissions + 1):
            content = _content(challenge, targets, lead, partners, revision, start)
            await services.submit_bid(bid=bid, actor=lead, content=content, storage=storage,
                                      now=moment - timedelta(days=submissions - revision + 1))
        if final == BidStatus.WITHDRAWN:
            await services.withdraw_bid(bid=bid, actor=lead, reason="联合体成员调整，暂时撤回。", now=moment)
    return bid


async def _decide(bid: Bid, key: str, final: BidStatus, admin: User) -> None:
    """The organiser's part: the formal check (outcomes come from the results demo)."""
    if final in {BidStatus.DRAFT, BidStatus.SUBMITTED, BidStatus.WITHDRAWN}:
        return
    if final == BidStatus.FORMAL_FAILED:
        await services.formal_check(bid=bid, actor=admin, passed=False,
                                    reason=FORMAL_FAIL_REASONS.get(key, "申报材料不完整。"))
        return
    await services.formal_check(bid=bid, actor=admin, passed=True, reason="材料齐全，符合揭榜条件。")
