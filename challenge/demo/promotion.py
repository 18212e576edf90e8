"""Demo promotion catalogue, through the promotion, review and results services: the 2026 round
takes the accepted 印染高盐废水 project's two technologies (its achieved values carried over)
through screening, technical evaluation by panels of the demo experts and a notice, into
version 1 of the catalogue; one entry is then withdrawn with its reason (version 2), and an
adoption case is recorded against the other. Dates run over the past weeks. A second round is open
now, and a published technology offer of 清华大学 (bidder@demo.cn) has applied to it, awaiting screening."""

from datetime import timedelta
from decimal import Decimal

from challenge.delivery.models import Project, ProjectStatus
from challenge.promotion import catalogue, rounds
from challenge.promotion.models import Candidate, CatalogueEntry, CatalogueRound
from challenge.supply.models import Offer, OfferStatus
from challenge.results import services as results
from challenge.reviews import services as reviews
from challenge.reviews.models import Assignment
from challenge.web.timefmt import now_utc

TECHNOLOGIES = [
    ("印染高盐废水抗污染膜深度处理技术",
     "印染、化工园区高盐有机废水深度处理与回用，单套规模 1000–10000 吨/日",
     "抗污染改性复合纳滤膜 + 两级反渗透，膜面错流与在线化学清洗联动，浓水进入分盐单元",
     "回用率 70% 以上，吨水成本低于 6 元，较传统工艺减少新鲜水取用约 60%，年减排二氧化碳约 1.2 万吨（万吨级工程）"),
    ("高盐废水分盐结晶资源化技术",
     "印染、煤化工浓盐水的分盐结晶与资源化，适用于浓水 200–2000 吨/日",
     "纳滤分盐 + 机械蒸汽再压缩（MVR）蒸发结晶，氯化钠与硫酸钠分质结晶",
     "结晶盐纯度达到工业盐标准，固废减量 80% 以上，蒸发单元能耗较多效蒸发降低约 40%"),
]
CASE = {"organisation": "绍兴柯桥印染园区污水处理有限公司", "place": "浙江省绍兴市柯桥区", "scale": "日处理 1.5 万吨",
        "effect": "投运 6 个月，回用率 72%，年节水约 390 万吨，吨水成本 5.5 元"}


async def load(ctx, settings) -> None:
    made = ctx.extra.get("challenges") or {}
    if "accepted" not in made:
        return
    project = await Project.get_or_none(challenge_id=made["accepted"].id, status=ProjectStatus.ACCEPTED) \
        .select_related("challenge")
    if project is None:
        return
    admin = ctx.users["admin@demo.cn"]
    start = now_utc() - timedelta(days=45)
    domain = project.challenge.domain_id
    round_ = await rounds.create_round(
        actor=admin, year=start.year, title=f"{start.year}年度绿色技术推广目录遴选",
        conditions="申报技术须为本平台揭榜挂帅、赛马项目通过验收的成果，或经审核公开的技术成果；技术成熟度不低于 7 级，"
                   "有连续稳定运行 6 个月以上的示范工程和第三方检测报告。",
        deadline=start + timedelta(days=14), domain_ids=[d.id for d in ctx.domains])
    round_ = await rounds.open_round(round_=round_, actor=admin, now=start)
    parameters = await rounds.carried_parameters(project)
    for name, scope, process, benefits in TECHNOLOGIES:
        candidate = await rounds.propose_candidate(
            round_=round_, project=project, actor=admin, name=name, domain_id=domain, scope=scope,
            core_process=process, parameters=parameters, benefits=benefits, now=start + timedelta(days=3))
        await rounds.screen_candidate(candidate=candidate, actor=admin, eligible=True,
                                      note="符合申报条件：已通过验收，示范工程运行 12 个月")
    await rounds.start_evaluation(round_=round_, actor=admin)
    experts = [ctx.users[f"expert{n}@demo.cn"] for n in range(1, 7) if f"expert{n}@demo.cn" in ctx.users]
    for offset, candidate in enumerate(await Candidate.filter(round_id=round_.id).order_by("id")):
        panel = await rounds.form_evaluation(
            candidate=candidate, actor=admin, name=f"{candidate.name}技术评价专家组",
            member_ids=[e.id for e in experts], chair_id=experts[0].id, deputy_id=None, due_at=None,
            dispersion_threshold=Decimal("10"))
        await reviews.propose_assignments(panel=panel, actor=admin)
        await reviews.confirm_assignments(panel=panel, actor=admin)
        criteria = await reviews.rubric_of(panel)  # the round's technical evaluation rubric
        for number, assignment in enumerate(await Assignment.filter(panel=panel).order_by("id")):
            expert = next(e for e in experts if e.id == assignment.expert_id)
            await reviews.save_scores(
                assignment=assignment, criteria=criteria, comments={}, submit=True, actor=expert,
                values={c.id: Decimal(c.max_score * (88 - 4 * offset + number) // 100) for c in criteria},
                opinion="技术成熟、示范效果明确，参数有第三方检测支撑，同意推荐列入推广目录。")
        await reviews.record_opinion(panel=panel, actor=experts[0], recommended_ids=[],
                                     text="专家组认为该技术先进适用、经济性好，同意推荐列入推广目录。")
    noticed_at = start + timedelta(days=20)
    notice = await rounds.publish_notice(
        round_=await CatalogueRound.get(id=round_.id), actor=admin, working_days=5,
        recommended_ids=list(await Candidate.filter(round_id=round_.id).values_list("id", flat=True)),
        starts_on=results.default_start(noticed_at), now=noticed_at)
    await rounds.publish_round(round_=await CatalogueRound.get(id=round_.id), actor=admin,
                               now=notice.ends_at + timedelta(days=2))
    first, second = await CatalogueEntry.filter(round_id=round_.id).order_by("number")
    await catalogue.add_case(entry=first, actor=admin, adopted_on=(start + timedelta(days=40)).date(), **CASE)
    await catalogue.withdraw_entry(entry=second, actor=admin, now=notice.ends_at + timedelta(days=10),
                                   reason="持有单位申请撤回：蒸发结晶单元正在升级改造，待新一轮验收后重新申报。")
    await _open_round_with_an_offer(ctx)


async def _open_round_with_an_offer(ctx) -> None:
    """The next round, open now, with one published demo offer applied by its owner."""
    admin, owner = ctx.users["admin@demo.cn"], ctx.users.get("bidder@demo.cn")
    now = now_utc()
    round_ = await rounds.create_round(
        actor=admin, year=now.year, title=f"{now.year}年度第二批绿色技术推广目录遴选",
        conditions="本平台项目通过验收的成果，或经审核公开的技术成果；技术成熟度不低于 7 级，有示范工程和第三方检测报告。",
        deadline=now + timedelta(days=30), domain_ids=[d.id for d in ctx.domains])
    round_ = await rounds.open_round(round_=round_, actor=admin, now=now)
    offer = await Offer.filter(organisation_id=owner.organisation_id, status=OfferStatus.PUBLISHED) \
        .order_by("id").first() if owner is not None else None
    if offer is None:
        return
    fields = await rounds.offer_fields(offer)
    await rounds.apply_offer(round_=round_, offer=offer, actor=owner, **fields)
