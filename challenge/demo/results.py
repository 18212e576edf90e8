"""Demo results, reached through the results services from the concluded demo panels:

- 钢铁余热 (`notice`): the decision follows the panel, its notice runs now, ending in a few working days;
- 动力电池正极再生 (`objection`): in notice, with an open objection filed by bidder2@demo.cn;
- 荒漠草原固碳 (`announced`): noticed and announced months ago, after an objection was answered;
- 富氢高炉赛道 (`race`): the first stage gate, where the organiser follows the panel in letting the
  third team by score go on instead of the second, with the reasons on the stage notice;
- 纺织印染废水 (`accepted`): noticed and announced years ago; the delivery demo takes its winner's
  project through to acceptance.

The announcements start the winners' projects (the delivery area reacts to them).

Past events are replayed with explicit times (a notice published a month after the close, or ten
days after the stage's deliverables were due, an objection the day after, the announcement the
day after the period ended), so the demo is the same whenever it is loaded, relative to that day.
"""

from datetime import datetime, timedelta

from challenge.accounts.models import User
from challenge.demo.bids import tiny_pdf, upload_from_bytes
from challenge.files.storage import make_storage
from challenge.results import objections, services
from challenge.results.models import Notice
from challenge.reviews.models import Panel
from challenge.web.timefmt import now_utc, to_beijing

OBJECTION = {
    "real_name": "周研究员",
    "contact": "010-82544800",
    "reasons": "公示的拟揭榜单位申报书所附千吨级示范线为在建项目，尚未投产，与“已建成示范线”的表述不符，"
               "可能影响“示范线年处理能力”指标的实现。请核查其示范线建设进度和相关证明材料。",
}
ANSWERED = {
    "real_name": "何教授",
    "contact": "027-87540000",
    "reasons": "拟揭榜单位的碳汇监测方法与我单位已发表的方法相近，请核实其知识产权来源。",
}
DISMISSAL = ("经核查，拟揭榜单位的碳汇监测方法为其自主研发，已取得发明专利授权（附专利证书），"
             "与异议人所述方法在模型结构和参数反演方式上均不相同。异议不成立。")
RACE_REASONS = {
    2: "排名第二，但专家组未予推荐：其小试富氢喷吹量未达到阶段考核要求，放大风险较高。",
    3: "专家组推荐晋级：富氢喷吹方案可放大性最好，小试吨铁碳排放降幅领先，与第一名技术路线互补。",
}


async def _decide_and_publish(panel: Panel, admin: User, *, now: datetime, reasons: dict[int, str] | None = None):
    """The decision as the panel recommended (with reasons by rank where that departs from the
    ranking), published for five working days from the next working day after `now`."""
    rows = await services.decision_basis(panel)
    by_rank = {row.rank: row.bid.id for row in rows}
    decision = await services.record_decision(
        panel=panel, actor=admin, selected=services.default_selection(rows),
        reasons={by_rank[rank]: text for rank, text in (reasons or {}).items()}, now=now)
    return await services.publish_notice(decision=decision, actor=admin, working_days=5,
                                         starts_on=services.default_start(now), now=now)


async def _object(notice: Notice, user: User, details: dict, storage, *, now: datetime):
    evidence = await upload_from_bytes(storage, field="file", filename="核查情况说明.pdf",
                                       data=tiny_pdf(f"Objection to notice {notice.id}"))
    return await objections.file_objection(notice=notice, user=user, uploads=[evidence], storage=storage, now=now,
                                           **details)


async def load(ctx, settings) -> None:
    panels = ctx.extra.get("review_panels") or {}
    admin = ctx.users["admin@demo.cn"]
    storage = make_storage(settings)
    now = now_utc()
    if "notice" in panels:
        await _decide_and_publish(panels["notice"], admin, now=now)
    if "objection" in panels:
        notice = await _decide_and_publish(panels["objection"], admin, now=now)
        await _object(notice, ctx.users["bidder2@demo.cn"], OBJECTION, storage, now=now)
    if "announced" in panels:
        await _announced(ctx, panels["announced"], admin, storage)
    if "race" in panels:
        await _race(panels["race"], admin)
    if "accepted" in panels:
        await _settled(panels["accepted"], admin)


def _morning_after(moment: datetime, days: int) -> datetime:
    """10:00 Beijing time, `days` days after `moment`."""
    return (to_beijing(moment) + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)


async def _announced(ctx, panel: Panel, admin: User, storage) -> None:
    await panel.fetch_related("challenge")
    published = _morning_after(panel.challenge.closes_at, 30)
    notice = await _decide_and_publish(panel, admin, now=published)
    objector = ctx.users.get("hust-bidder@demo.cn") or ctx.users["bidder@demo.cn"]
    objection = await _object(notice, objector, ANSWERED, storage, now=published + timedelta(days=1))
    await objections.answer_objection(objection=objection, actor=admin, upheld=False, answer=DISMISSAL,
                                      now=published + timedelta(days=2))
    await services.announce(notice=notice, actor=admin, now=notice.ends_at + timedelta(days=1),
                            text="请揭榜单位于公告之日起一个月内与发榜单位签订任务书，按承诺组织实施。")


async def _race(panel: Panel, admin: User) -> None:
    await panel.fetch_related("stage")
    published = _morning_after(panel.stage.due_at, 10)  # the stage's deliverables were due ten days before
    notice = await _decide_and_publish(panel, admin, now=published, reasons=RACE_REASONS)
    await services.announce(notice=notice, actor=admin, now=notice.ends_at + timedelta(days=1))


async def _settled(panel: Panel, admin: User) -> None:
    await panel.fetch_related("challenge")
    notice = await _decide_and_publish(panel, admin, now=_morning_after(panel.challenge.closes_at, 30))
    await services.announce(notice=notice, actor=admin, now=notice.ends_at + timedelta(days=1),
                            text="请揭榜单位于公告之日起一个月内与发榜单位签订任务书，按承诺组织实施。")
