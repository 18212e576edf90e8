"""Demo expert pool and review panels chaired by expert1@demo.cn: assignments, submitted scores
and therefore rankings. The panel of the challenge in review is left for its chair to conclude;
the panels of the challenges the results demo puts in notice or announces (and the first stage of
the demo horse race) are concluded with the panel's opinion and recommendation.

Everything goes through the review services (profiles, a declared conflict, the panel, the
proposal, its confirmation, the scores, the opinion), so the audit log tells the story. The bids
come from the bids demo (the challenge's bids that passed the formal check); when that demo is
absent, a few bids are created here for the challenge in review, guarded by existence checks.
"""

from datetime import timedelta
from decimal import Decimal

from challenge.accounts.models import Organisation
from challenge.bids.models import Bid, BidPartner, BidStatus, TeamMember
from challenge.challenges.models import Challenge, ChallengeStatus, RubricCriterion, Stage
from challenge.reviews import panels, services
from challenge.reviews.models import Assignment, AssignmentStatus, Availability, ConflictKind, Panel
from challenge.web.timefmt import now_utc

# email -> (domain indexes, keywords, availability)
PROFILES = {
    "expert1@demo.cn": ([0, 2, 5], "能源系统优化，碳捕集利用与封存，工业节能，余热回收", Availability.AVAILABLE),
    "expert2@demo.cn": ([0, 3], "钢铁冶金，氢冶金，余热回收，工业过程节能", Availability.AVAILABLE),
    "expert3@demo.cn": ([1, 2, 5], "催化氧化，VOCs治理，高盐废水，膜分离", Availability.AVAILABLE),
    "expert4@demo.cn": ([0, 5], "燃煤发电，二氧化碳捕集，烟气治理，热力系统", Availability.AVAILABLE),
    "expert5@demo.cn": ([1, 2, 3], "建材工业，固废资源化，水泥窑协同处置，污染治理", Availability.LIMITED),
    "expert6@demo.cn": ([1, 4], "环境工程，工业废水处理，生态修复，园区环境管理", Availability.AVAILABLE),
}
# A conflict an expert declares himself (the others are computed from the facts).
DECLARED = ("expert3@demo.cn", "宝武低碳冶金科技有限公司", "近三年与该单位合作承担国家重点研发计划项目")

FALLBACK_BIDS = [
    ("清华大学", "bidder@demo.cn", "园区VOCs催化氧化与高盐废水分盐结晶协同治理技术",
     "采用蜂窝状贵金属催化剂低温催化氧化VOCs，高盐废水经纳滤分盐、冷冻结晶和蒸发结晶得到工业级硫酸钠和氯化钠。",
     "团队近五年承担国家重点研发计划项目 2 项，建成千吨级分盐中试装置。",
     [("华能清洁能源集团有限公司", "enterprise")], [("陈教授", "教授", "项目负责人")]),
    ("中国科学院过程工程研究所", "bidder2@demo.cn", "基于过程强化的印染园区废水近零排放技术",
     "以电催化氧化耦合膜蒸馏实现高盐废水浓缩，分质结晶回收氯化钠，VOCs采用吸附浓缩—蓄热燃烧工艺。",
     "拥有国家重点实验室和万吨级示范工程经验。", [], [("周研究员", "研究员", "项目负责人")]),
    ("宝武低碳冶金科技有限公司", "enterprise@demo.cn", "工业园区废气废水智能协同治理与资源化示范",
     "建设园区级VOCs在线监测与智能调度平台，高盐废水采用“预处理+两级膜浓缩+分盐结晶”工艺。",
     "在钢铁园区建成多个废水零排放工程。", [("四川绿色低碳产业研究院", "institute")], [("黄经理", "高级工程师", "技术负责人")]),
]
# Quality of each bid (index) and the spread of the experts around it.
QUALITY = [84, 78, 71, 66, 60]
OFFSETS = [3, -2, 1, -4, 2, 0]
# Concluded panels: challenge key -> (stage position or None, ranks the panel recommends, opinion).
CONCLUDED = {
    "notice": (None, [1], "专家组认为排名第一的申报技术路线成熟、余热梯级利用方案完整，示范工程条件落实，推荐揭榜。"),
    "objection": (None, [1], "专家组认为排名第一的申报直接再生工艺能耗优势明显、中试数据充分，推荐揭榜。"),
    "announced": (None, [1], "专家组认为排名第一的申报碳汇监测方法先进、示范区条件好，推荐揭榜。"),
    "accepted": (None, [1], "专家组认为排名第一的申报抗污染膜材料性能突出、示范园区条件落实，推荐揭榜。"),
    # The panel recommends the third by score over the second: the results demo follows it, with reasons.
    "race": (0, [1, 3], "专家组认为排名第三的团队富氢喷吹方案可放大性最好，建议与第一名一同晋级工业试验。"),
}


async def _profiles(ctx) -> None:
    for email, (domain_indexes, keywords, availability) in PROFILES.items():
        user = ctx.users.get(email)
        if user is None:
            continue
        await services.update_profile(
            user=user, organisation_name=user.organisation.name if user.organisation else "", credit_code="",
            title=user.title, keywords=keywords, bio="", availability=availability,
            domain_ids=[ctx.domains[i].id for i in domain_indexes if i < len(ctx.domains)],
        )
    email, org_name, reason = DECLARED
    if email in ctx.users:
        await services.declare_conflict(
            expert=ctx.users[email], kind=ConflictKind.ORGANISATION,
            organisation=await Organisation.get_or_none(name=org_name), name=org_name, credit_code="", email="",
            reason=reason,
        )


async def _reviewing_challenge(ctx) -> Challenge | None:
    made = ctx.extra.get("challenges") or {}
    challenge = made.get("reviewing")
    if challenge is None:
        challenge = await Challenge.filter(status=ChallengeStatus.REVIEWING).order_by("id").first()
    return challenge


async def _bids(ctx, challenge: Challenge) -> list[Bid]:
    bids = await Bid.filter(challenge=challenge, status=BidStatus.IN_REVIEW).order_by("id")
    if bids:
        return list(bids)
    submitted = now_utc()
    made = []
    for lead_name, email, title, approach, foundation, partners, members in FALLBACK_BIDS:
        lead = await Organisation.get_or_none(name=lead_name)
        if lead is None or await Bid.filter(challenge=challenge, lead_org=lead).exists():
            continue
        bid = await Bid.create(challenge=challenge, lead_org=lead, created_by=ctx.users.get(email), title=title,
                               approach=approach, foundation=foundation, commitment_accepted=True,
                               status=BidStatus.IN_REVIEW, current_version=1, submitted_at=submitted)
        for position, (name, org_type) in enumerate(partners):
            partner = await Organisation.get_or_none(name=name)
            await BidPartner.create(bid=bid, organisation=partner, name=name, org_type=org_type,
                                    credit_code=partner.credit_code if partner else None, position=position)
        for position, (name, title_, role) in enumerate(members):
            await TeamMember.create(bid=bid, name=name, title=title_, role=role, organisation_name=lead_name,
                                    user=ctx.users.get(email), email=email, position=position)
        made.append(bid)
    return made


async def _scored_panel(ctx, challenge: Challenge, bids: list[Bid], stage: Stage | None) -> Panel:
    """A panel of the six experts chaired by expert1, its assignments confirmed and all scores submitted."""
    admin = ctx.users["admin@demo.cn"]
    experts = [ctx.users[email] for email in PROFILES if email in ctx.users]
    name = f"{challenge.title}{stage.name if stage else ''}评审专家组"
    panel = await panels.create_panel(
        challenge=challenge, stage=stage, name=name, member_ids=[e.id for e in experts],
        chair_id=ctx.users["expert1@demo.cn"].id, due_at=now_utc().replace(microsecond=0) + timedelta(days=7),
        dispersion_threshold=Decimal("8"), actor=admin,
    )
    await services.propose_assignments(panel=panel, actor=admin)
    await services.confirm_assignments(panel=panel, actor=admin)
    criteria = list(await RubricCriterion.filter(challenge=challenge).order_by("position", "id"))
    order = {bid.id: index for index, bid in enumerate(bids)}
    assignments = await Assignment.filter(panel=panel, status=AssignmentStatus.ASSIGNED).order_by("id")
    for number, assignment in enumerate(assignments):
        expert = next(e for e in experts if e.id == assignment.expert_id)
        quality = QUALITY[order[assignment.bid_id] % len(QUALITY)]
        values = {}
        for position, criterion in enumerate(criteria):
            raw = quality + OFFSETS[(number + position) % len(OFFSETS)]
            values[criterion.id] = Decimal(min(criterion.max_score, max(0, raw * criterion.max_score // 100)))
        await services.save_scores(
            assignment=assignment, criteria=criteria, values=values,
            comments={criteria[0].id: "技术路线清晰，关键指标论证较充分。"} if criteria else {},
            opinion="方案总体可行，建议在示范工程阶段加强长周期运行验证。", submit=True, actor=expert,
        )
    return panel


async def _conclude(ctx, panel: Panel, challenge: Challenge, ranks: list[int], text: str) -> None:
    ranked = await services.ranking(panel=panel, aggregation_rule=challenge.aggregation)
    recommended = [row.bid_id for row in ranked if row.rank in ranks]
    await services.record_opinion(panel=panel, actor=ctx.users["expert1@demo.cn"], text=text,
                                  recommended_ids=recommended)


async def load(ctx, settings) -> None:
    await _profiles(ctx)
    panels = {}
    challenge = await _reviewing_challenge(ctx)
    if challenge is not None:
        bids = await _bids(ctx, challenge)
        if bids:
            panels["reviewing"] = await _scored_panel(ctx, challenge, bids, None)
    made = ctx.extra.get("challenges") or {}
    for key, (stage_position, ranks, text) in CONCLUDED.items():
        challenge = made.get(key)
        bids = list(await Bid.filter(challenge=challenge, status=BidStatus.IN_REVIEW).order_by("id")) \
            if challenge is not None else []
        if not bids:
            continue
        stage = await Stage.get(challenge=challenge, position=stage_position) if stage_position is not None \
            else None
        panel = await _scored_panel(ctx, challenge, bids, stage)
        await _conclude(ctx, panel, challenge, ranks, text)
        panels[key] = await Panel.get(id=panel.id)
    ctx.extra["review_panels"] = panels
