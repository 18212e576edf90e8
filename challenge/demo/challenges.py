"""Demo challenges of both mechanisms in several states, built from the demo's accepted needs.

Everything goes through the challenge services (drafts, publishing, amendments, questions), with
backdated `now` where a state needs time to have passed, so the audit log tells the story.
`ctx.extra["challenges"]` hands them to the bids and reviews demos, by short key. Challenges
meant to be in notice, announced or finished stop at closed here: the reviews, results and
delivery demos take them through their review, notice, announcement and acceptance.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from challenge.accounts.models import Organisation
from challenge.challenges import documents, services
from challenge.challenges.models import Aggregation, ChallengeStatus, DocumentKind, Mechanism
from challenge.challenges.services import ChallengeData, CriterionRow, StageRow, TargetRow
from challenge.needs.models import Campaign, CampaignStatus, Need, NeedStatus
from challenge.demo.bids import tiny_pdf, upload_from_bytes
from challenge.files.storage import make_storage
from challenge.web.timefmt import beijing_to_utc, now_utc

RUBRIC_OPEN_CALL = [
    ("技术方案先进性与可行性", 35, "技术路线是否先进、可行，关键技术难点分析是否透彻，是否具备自主知识产权"),
    ("考核指标承诺与实现路径", 25, "承诺指标是否全面覆盖并优于榜单要求，实现路径与验证方案是否可信"),
    ("研究基础与团队能力", 20, "前期成果、中试条件、团队结构与产学研协同情况"),
    ("工程化与推广应用前景", 10, "示范工程条件、产业化路径和减排效益"),
    ("经费预算与配套", 10, "预算是否合理，自筹与配套资金是否落实"),
]
RUBRIC_HORSE_RACE = [
    ("阶段目标完成度", 40, "对照本阶段交付物和考核指标逐项评价"),
    ("技术路线先进性与可放大性", 30, "工艺路线能否放大到工业规模，能效和成本是否具备优势"),
    ("团队能力与资源保障", 15, "团队投入、试验条件与合作单位支撑"),
    ("下一阶段方案可行性", 15, "下一阶段计划、风险识别与应对措施"),
]
ELIGIBILITY = ("1. 在中国境内注册、具有独立法人资格的企业、高等院校或科研院所；\n"
               "2. 在相关领域具有较好的研究基础和中试或工程化条件；\n"
               "3. 近三年无严重失信行为，无在研项目逾期未结题情况；\n"
               "4. 鼓励组建产学研用联合体，牵头单位对项目实施负总责。")


# Consultation contacts (咨询联系人/电话) of the programme office, one per challenge in turn.
CONTACTS = [("王建国", "010-68205566"), ("李晓梅", "0512-68686868-801"), ("陈志刚", "13911082266")]


@dataclass
class Plan:
    key: str
    need_title: str  # the accepted need it is built from (by title, with a domain fallback)
    domain_index: int
    mechanism: Mechanism
    title: str
    summary: str
    description: str
    funding: str
    months: int
    targets: list[tuple[str, str, str, str]]
    state: ChallengeStatus
    opens_days: int  # relative to now, in days
    closes_days: int
    winners: int = 1
    blind: bool = False
    consortium: bool = False
    org_types: list[str] = field(default_factory=list)
    # name, deliverable, days after the close, teams that go on, funding (万元)
    stages: list[tuple[str, str, int, int, str]] = field(default_factory=list)


PLANS = [
    Plan("open_call_open", "燃煤电厂烟气低能耗二氧化碳捕集技术", 5, Mechanism.OPEN_CALL,
         "高效低成本二氧化碳捕集技术",
         "面向燃煤电厂烟气，攻克新型低能耗吸收剂、高效传质填料与系统热集成技术，建成 50 万吨/年捕集示范装置。",
         "燃煤电厂是我国最大的二氧化碳排放源。现有化学吸收法再生能耗约 3.0 GJ/t，捕集成本超过 300 元/吨，"
         "吸收剂降解和设备腐蚀问题突出。\n\n攻关内容：新型低能耗复合胺吸收剂的筛选与工业验证；高效规整填料与塔器设计；"
         "吸收—再生系统热集成与全流程优化；长周期运行的降解、腐蚀控制。\n\n发榜单位提供 660MW 超超临界机组烟气侧线作为示范场景。",
         "3000", 36, [("捕集率", "≥90", "%", "第三方连续 168 小时性能测试"),
                       ("二氧化碳产品纯度", "≥99", "%", "第三方取样检测"),
                       ("再生能耗", "≤2.3", "GJ/t CO₂", "第三方性能测试"),
                       ("捕集成本", "≤200", "元/t CO₂", "经审计的运行成本核算")],
         ChallengeStatus.PUBLISHED, -10, 35, consortium=True, org_types=["enterprise", "university", "institute"]),
    Plan("horse_race_open", "氢基竖炉直接还原炼铁关键技术", 3, Mechanism.HORSE_RACE,
         "钢铁行业氢冶金关键技术",
         "赛马赛道：多支团队并行攻关氢基竖炉直接还原工艺与装备，小试、中试、工程示范三阶段择优晋级。",
         "高炉—转炉长流程吨钢二氧化碳排放约 1.8 吨。氢基竖炉直接还原是钢铁深度脱碳的主要路径，"
         "但高比例氢气还原的热平衡、炉料强度和还原气循环等关键问题尚未解决。\n\n"
         "赛马安排：第一阶段小试验证，择优 2 支团队进入工程示范（阶段经费 1500 万元）；第二阶段在宝武湛江基地"
         "开展工程示范，最终择优 1 支团队（阶段经费 5000 万元）。",
         "8000", 48, [("还原气氢气体积比例", "≥70", "%", "现场在线监测与第三方核查"),
                       ("直接还原铁金属化率", "≥92", "%", "第三方取样检测"),
                       ("吨铁二氧化碳排放降幅（较高炉流程）", "≥50", "%", "碳排放核算报告"),
                       ("连续稳定运行时间", "≥720", "小时", "运行记录与现场核查")],
         ChallengeStatus.PUBLISHED, -5, 50, blind=True,
         stages=[("小试验证", "小试试验报告、关键参数与物料平衡", 150, 2, "1500"),
                 ("工程示范", "示范工程第三方性能测试与验收报告", 760, 1, "5000")]),
    Plan("closed_window", "退役动力电池高值化梯次利用与再生技术", 2, Mechanism.OPEN_CALL,
         "废旧动力电池高值化回收利用技术",
         "攻克退役动力电池快速检测分选、智能拆解与锂高效回收技术，建成年处理 5 万吨示范生产线。",
         "退役动力电池规格杂、一致性差，快速检测分选效率低；湿法回收锂回收率约 85%，废水量大。\n\n"
         "攻关内容：健康状态快速无损评估；柔性智能拆解装备；锂优先提取与镍钴锰高值再生；废水减量与循环。",
         "2500", 30, [("单体电池健康状态评估时间", "≤10", "分钟", "现场测试"),
                       ("锂综合回收率", "≥95", "%", "第三方物料衡算"),
                       ("镍、钴、锰回收率", "≥98.5", "%", "第三方物料衡算"),
                       ("吨电池废水排放降幅", "≥50", "%", "排污监测报告")],
         ChallengeStatus.PUBLISHED, -60, -3),
    Plan("reviewing", "印染行业高盐废水近零排放与资源化技术", 1, Mechanism.OPEN_CALL,
         "工业园区VOCs与高盐废水深度治理技术",
         "面向印染和化工园区，攻克VOCs深度治理与高盐废水分盐资源化协同技术，建成万吨级示范工程。",
         "园区印染、化工企业集中，VOCs无组织排放和高盐废水是突出的环境问题。现有“生化+膜”工艺产生大量杂盐，"
         "VOCs治理设施去除效率不稳定。\n\n攻关内容：VOCs高效捕集与催化氧化；高盐废水分盐结晶与杂盐资源化；全过程智能控制。",
         "1800", 24, [("VOCs去除率", "≥95", "%", "第三方监测"),
                       ("水回用率", "≥90", "%", "在线计量"),
                       ("分盐产品纯度", "工业盐一级", "", "按 GB/T 5462 检测"),
                       ("吨水处理成本", "≤25", "元", "运行成本核算")],
         ChallengeStatus.REVIEWING, -90, -20),
    Plan("notice", "钢铁行业中低温余热高效回收利用技术", 0, Mechanism.OPEN_CALL,
         "钢铁行业中低温余热高效回收利用技术",
         "攻克 200℃ 以下中低温余热高效回收与梯级利用技术，在 3 家钢铁企业建成示范工程。",
         "钢铁企业中低温余热约占余热总量的一半，回收率不足 30%。\n\n攻关内容：高效换热器与新型工质；"
         "有机朗肯循环与热泵耦合；余热梯级利用系统集成与智能调度。",
         "2000", 30, [("中低温余热回收率", "≥60", "%", "第三方能效测试"),
                       ("有机朗肯循环发电效率", "≥12", "%", "第三方性能测试"),
                       ("吨钢综合能耗降低", "≥8", "千克标准煤", "能源审计报告")],
         ChallengeStatus.NOTICE, -120, -45, winners=1),
    Plan("announced", "荒漠草原生态系统固碳增汇关键技术与监测评估", 4, Mechanism.OPEN_CALL,
         "荒漠草原生态系统固碳增汇与碳汇监测技术",
         "研发荒漠草原固碳增汇技术模式与低成本高精度碳汇监测方法，支撑地方碳汇项目开发。",
         "荒漠草原生态脆弱、植被恢复慢；碳汇计量依赖人工样方调查，成本高、精度低。\n\n"
         "攻关内容：适生植被配置与土壤改良增汇技术；遥感—地面协同的碳汇监测；碳汇计量方法学。",
         "800", 36, [("示范区植被覆盖度提高", "≥15", "个百分点", "遥感与样方核查"),
                      ("土壤有机碳储量年均增加", "≥0.3", "吨碳/公顷", "第三方采样检测"),
                      ("碳汇监测精度", "≥90", "%", "与涡度相关观测比对")],
         ChallengeStatus.ANNOUNCED, -880, -820),
    Plan("objection", "退役动力电池高值化梯次利用与再生技术", 2, Mechanism.OPEN_CALL,
         "动力电池三元正极材料直接再生技术",
         "攻克退役三元正极材料的低能耗直接修复再生技术，建成千吨级直接再生示范线。",
         "湿法冶金回收正极材料流程长、能耗和试剂消耗高。直接再生可保留材料晶体结构，大幅降低能耗和碳排放，"
         "但杂质控制和批次一致性尚未解决。\n\n攻关内容：失效正极材料精准分选与杂质脱除；补锂修复与晶体结构再生；"
         "再生材料电化学性能评价与批次一致性控制。",
         "1500", 30, [("再生正极材料首次放电比容量", "≥190", "mAh/g", "第三方检测"),
                       ("再生过程能耗较湿法降低", "≥40", "%", "能源审计报告"),
                       ("示范线年处理能力", "≥1000", "吨", "现场核查")],
         ChallengeStatus.NOTICE, -150, -60),
    Plan("race", "氢基竖炉直接还原炼铁关键技术", 3, Mechanism.HORSE_RACE,
         "富氢碳循环高炉低碳炼铁技术赛道",
         "赛马赛道：多支团队并行攻关富氢碳循环高炉工艺，小试、工业试验两阶段择优晋级。",
         "富氢碳循环高炉在现有高炉基础上喷吹富氢煤气并循环利用炉顶煤气，可较传统高炉降低碳排放 30% 以上。\n\n"
         "赛马安排：第一阶段小试验证，择优 2 支团队进入工业试验；第二阶段工业试验，最终择优 1 支团队。",
         "5000", 36, [("吨铁碳排放降幅（较传统高炉）", "≥30", "%", "碳排放核算报告"),
                       ("富氢煤气喷吹量", "≥400", "立方米/吨铁", "在线计量"),
                       ("连续稳定运行时间", "≥90", "天", "运行记录与现场核查")],
         ChallengeStatus.CLOSED, -300, -240,
         stages=[("小试验证", "小试试验报告、关键参数与物料平衡", 150, 2, "1200"),
                 ("工业试验", "工业试验运行报告与第三方性能测试", 600, 1, "3000")]),
    Plan("draft", "印染行业高盐废水近零排放与资源化技术", 1, Mechanism.HORSE_RACE,
         "印染园区废水近零排放赛马（草案）",
         "拟以赛马方式组织多支团队并行攻关印染废水近零排放技术。",
         "草案：阶段设置和评审细则待项目办研究确定。",
         "1200", 24, [("水回用率", "≥90", "%", "在线计量")],
         ChallengeStatus.DRAFT, 10, 70,
         stages=[("中试验证", "中试报告", 200, 2, "400"), ("工程示范", "示范工程验收报告", 500, 1, "800")]),
    Plan("accepted", "印染行业高盐废水近零排放与资源化技术", 1, Mechanism.OPEN_CALL,
         "纺织印染废水膜法深度处理与回用技术",
         "攻克印染废水膜法深度处理、浓水减量与回用技术，在纺织园区建成万吨级示范工程。",
         "印染废水色度高、盐分高、可生化性差，现有工艺回用率不足 40%。\n\n攻关内容：抗污染膜材料；"
         "浓水高效减量；回用水质稳定控制与智能运维。",
         "1200", 30, [("废水回用率", "≥70", "%", "在线计量与第三方核查"),
                       ("吨水处理成本", "≤6", "元", "运行成本核算"),
                       ("膜通量衰减率（年）", "≤15", "%", "运行记录")],
         ChallengeStatus.FINISHED, -1360, -1300),
]

QUESTIONS = {
    "open_call_open": [
        ("bidder@demo.cn", "捕集率和再生能耗是否须在同一工况下同时达到？测试期间机组负荷有何要求？",
         "是。两项指标须在同一测试周期内同时达到，测试期间机组负荷不低于额定负荷的 75%，由第三方机构按榜单附件的测试规程执行。"),
        ("bidder2@demo.cn", "联合体成员是否可以包括境外高校？",
         "联合体成员须为在中国境内注册的法人单位；境外机构可以技术合作方式参与，但不作为联合体成员，不分配榜单经费。"),
        ("bidder@demo.cn", "示范装置的建设投资是否由榜单经费承担？", None),
    ],
    "horse_race_open": [
        ("bidder2@demo.cn", "第一阶段未晋级的团队，其小试成果的知识产权如何归属？",
         "各阶段产生的知识产权归完成单位所有；发榜单位在同等条件下享有优先实施许可权，具体以任务书约定为准。"),
    ],
}


async def _accepted_needs(ctx) -> list[Need]:
    needs = list(ctx.extra.get("accepted_needs") or [])
    if not needs:
        needs = list(await Need.filter(status=NeedStatus.ACCEPTED).order_by("id"))
    if not needs:
        needs = await _fallback_needs(ctx)
    return needs


async def _fallback_needs(ctx) -> list[Need]:
    """Only when the needs demo is absent: one accepted need per plan, filed by the programme office."""
    admin = ctx.users["admin@demo.cn"]
    now = now_utc()
    campaign = await Campaign.create(title="2025年度绿色技术需求征集（演示）", opens_at=now - timedelta(days=300),
                                     closes_at=now - timedelta(days=240), status=CampaignStatus.CLOSED,
                                     created_by=admin)
    await campaign.domains.add(*ctx.domains)
    needs = []
    for plan in PLANS:
        if any(n.title == plan.need_title for n in needs):
            continue
        needs.append(await Need.create(
            campaign=campaign, organisation=admin.organisation, created_by=admin, title=plan.need_title,
            domain=ctx.domains[plan.domain_index], bottleneck=plan.summary, target_indicators="见榜单考核指标",
            status=NeedStatus.ACCEPTED, cofunding_wan=Decimal("500"), submitted_at=now - timedelta(days=250)))
    return needs


def _need_for(plan: Plan, needs: list[Need], domains) -> Need:
    for need in needs:
        if need.title == plan.need_title:
            return need
    domain_id = domains[plan.domain_index].id
    return next((n for n in needs if n.domain_id == domain_id), needs[0])


def _data(plan: Plan, need: Need, issuers: list[Organisation], ctx, now: datetime) -> ChallengeData:
    rubric = RUBRIC_HORSE_RACE if plan.mechanism == Mechanism.HORSE_RACE else RUBRIC_OPEN_CALL
    opens = beijing_to_utc(datetime.combine((now + timedelta(days=plan.opens_days)).date(), datetime.min.time())
                           .replace(hour=9))
    closes = beijing_to_utc(datetime.combine((now + timedelta(days=plan.closes_days)).date(), datetime.min.time())
                            .replace(hour=17))
    return ChallengeData(
        mechanism=plan.mechanism, title=plan.title, summary=plan.summary, description=plan.description,
        domain_id=ctx.domains[plan.domain_index].id, funding_wan=Decimal(plan.funding), delivery_months=plan.months,
        opens_at=opens, closes_at=closes, winners_count=plan.winners, experts_per_bid=3,
        blind_review=plan.blind, aggregation=Aggregation.TRIMMED_MEAN if plan.blind else Aggregation.MEAN,
        eligibility_text=ELIGIBILITY, allowed_org_types=plan.org_types, consortium_required=plan.consortium,
        max_partners=5, need_ids=[need.id], issuer_ids=[o.id for o in issuers],
        targets=[TargetRow(*row) for row in plan.targets],
        criteria=[CriterionRow(name, weight, 100, guidance) for name, weight, guidance in rubric],
        stages=[StageRow(name, deliverable, closes + timedelta(days=days), advance, funding_wan=Decimal(funding))
                for name, deliverable, days, advance, funding in plan.stages],
    )


async def _walk(challenge, plan: Plan, admin, *, now: datetime) -> None:
    """Walk a published challenge whose window is over through the states up to the plan's (up to
    closed for the challenges the results demo takes to notice and announcement)."""
    order = [ChallengeStatus.CLOSED, ChallengeStatus.REVIEWING]
    target = ChallengeStatus.CLOSED if plan.state in {ChallengeStatus.NOTICE, ChallengeStatus.ANNOUNCED,
                                                      ChallengeStatus.FINISHED} else plan.state
    if target not in order:
        return
    for status in order[:order.index(target) + 1]:
        # The window closing is the system's doing (`challenge close-expired`), the rest the office's.
        await services.set_challenge_status(challenge=challenge, status=status,
                                            actor=None if status == ChallengeStatus.CLOSED else admin, now=now)


async def load(ctx, settings) -> None:
    admin = ctx.users["admin@demo.cn"]
    now = now_utc()
    needs = await _accepted_needs(ctx)
    made = {}
    storage = make_storage(settings)
    for number, plan in enumerate(PLANS):
        need = _need_for(plan, needs, ctx.domains)
        issuers = [await Organisation.get(id=need.organisation_id)]
        data = _data(plan, need, issuers, ctx, now)
        data.contact_name, data.contact_phone = CONTACTS[number % len(CONTACTS)]
        challenge = await services.save_draft(challenge=None, data=data, actor=admin)
        await _attach_documents(challenge, admin, storage, notice=number == 0)
        made[plan.key] = challenge
        if plan.state == ChallengeStatus.DRAFT:
            continue
        # A challenge whose window is over was published back then, the day before it opened.
        publish_at = now if data.closes_at > now else data.opens_at - timedelta(days=1)
        await services.set_challenge_status(challenge=challenge, status=ChallengeStatus.PUBLISHED, actor=admin,
                                            now=publish_at)
        if plan.key in AMENDMENTS:
            # Amendments are published while the window is open: a week before the close at the latest.
            await AMENDMENTS[plan.key](challenge, admin, min(now, data.closes_at - timedelta(days=7)))
        await _walk(challenge, plan, admin, now=now)

    for key, rows in QUESTIONS.items():
        challenge = made[key]
        for email, body, answer in rows:
            question = await services.ask_question(challenge=challenge, user=ctx.users[email], body=body, now=now)
            if answer:
                await services.answer_question(question=question, actor=admin, answer=answer)
    ctx.extra["challenges"] = made


async def _attach_documents(challenge, admin, storage, *, notice: bool) -> None:
    """The application guide (申报指南) of every challenge, and for one the official notice too."""
    files = [(DocumentKind.GUIDE, f"{challenge.title}申报指南.pdf", f"Application guide - challenge {challenge.id}")]
    if notice:
        files.append((DocumentKind.NOTICE, "关于发布绿色技术揭榜挂帅榜单的通知.pdf", "Official notice"))
    for kind, filename, text in files:
        upload = await upload_from_bytes(storage, field="files", filename=filename, data=tiny_pdf(text))
        await documents.add_documents(challenge=challenge, kind=kind, uploads=[upload], actor=admin, storage=storage)


async def _amend_open_call(challenge, admin, now: datetime) -> None:
    data = await services.load_data(challenge)
    data.closes_at = data.closes_at + timedelta(days=14)
    data.funding_wan = Decimal("3500")
    await services.amend_challenge(
        challenge=challenge, data=data, actor=admin, now=now,
        explanation="应多家潜在揭榜单位申请，并经发榜单位同意：揭榜截止时间延长 14 天；"
                    "发榜单位追加配套经费 500 万元，榜单金额调整为 3500 万元。其他内容不变。")
    data = await services.load_data(challenge)
    data.targets[2].target_value = "≤2.2"
    await services.amend_challenge(
        challenge=challenge, data=data, actor=admin, now=now,
        explanation="根据专家论证意见，再生能耗考核指标由“≤2.3 GJ/t CO₂”收紧为“≤2.2 GJ/t CO₂”，测试方法不变。")


async def _amend_closed_window(challenge, admin, now: datetime) -> None:
    data = await services.load_data(challenge)
    data.eligibility_text = data.eligibility_text + "\n5. 牵头单位须具备动力电池回收利用行业规范条件（白名单）资质或与具备该资质的企业联合申报。"
    await services.amend_challenge(challenge=challenge, data=data, actor=admin, now=now,
                                   explanation="补充揭榜条件第 5 项：明确牵头单位或联合体成员须具备行业规范条件资质。")


AMENDMENTS = {"open_call_open": _amend_open_call, "closed_window": _amend_closed_window}
