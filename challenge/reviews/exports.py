"""Exports of a panel's scores and ranking (XLSX, CSV).

`show_names=False` is the blind-safe form (the chair's export): bids appear only by their code,
experts by number, and nothing of a bid's parties is written.
"""

from challenge.bids.models import Bid
from challenge.reviews import blind, queries, services
from challenge.reviews.aggregation import to_2dp
from challenge.reviews.models import ACTIVE_ASSIGNMENT_STATES, Assignment, AssignmentStatus, Panel, Score
from challenge.web.exports import export_response
from challenge.web.i18n import gettext as _


def _fmt(fmt: str) -> str:
    return "xlsx" if fmt == "xlsx" else "csv"


async def ranking_export(*, panel: Panel, fmt: str, show_names: bool, hidden: frozenset[int] = frozenset()):
    """`hidden`: bids the reader is conflicted with, left out (the others numbered among themselves)."""
    criteria = await services.criteria_for(panel)
    ranked = await services.ranking(panel=panel, aggregation_rule=panel.aggregation_rule(panel.challenge),
                                    criteria=criteria)
    if hidden:
        ranked = [row for row in ranked if row.bid_id not in hidden]
        for position, row in enumerate(ranked, start=1):
            row.rank = position
    codes = await queries.panel_codes(panel.id)
    bids = {}
    if show_names:
        bids = {b.id: b for b in await Bid.filter(id__in=list(codes)).select_related("lead_org")}
    header = [_("排名"), _("申报代码")]
    if show_names:
        header += [_("申报编号"), _("牵头单位"), _("申报名称")]
    header += [_("专家组得分"), _("计分方式"), _("有效评分数"), _("未去分平均"), _("去掉的最高分"), _("去掉的最低分"),
               _("标准差"), _("离散度提示")]
    header += [f"{c.name}（{_('权重')}{c.weight}%，{_('满分')}{c.max_score}）" for c in criteria]

    def rows():
        for row in ranked:
            line = [row.rank, blind.label(codes.get(row.bid_id, "?"))]
            if show_names:
                bid = bids.get(row.bid_id)
                line += [bid.number, bid.lead_org.name, bid.title] if bid else ["", "", ""]
            line += [
                row.score_display if row.score_display is not None else "",
                _("去掉最高最低分后平均") if row.trimmed else _("算术平均"),
                row.count,
                row.untrimmed_display if row.untrimmed_display is not None else "",
                to_2dp(row.dropped_high[1]) if row.dropped_high else "",
                to_2dp(row.dropped_low[1]) if row.dropped_low else "",
                row.stdev_display if row.stdev_display is not None else "",
                _("分歧较大") if row.flagged else "",
            ]
            line += [row.mean_display(c.id) if row.mean_display(c.id) is not None else "" for c in criteria]
            yield line

    return await export_response(_fmt(fmt), f"panel-{panel.id}-ranking", header, rows())


async def scores_export(*, panel: Panel, fmt: str, show_names: bool):
    criteria = await services.criteria_for(panel)
    codes = await queries.panel_codes(panel.id)
    items = await Assignment.filter(panel=panel, status__in=list(ACTIVE_ASSIGNMENT_STATES | {
        AssignmentStatus.DECLINED})).select_related("expert").order_by("bid_id", "id")
    totals = await queries.assignment_totals(panel_id=panel.id, criteria=criteria)
    scores: dict[int, dict[int, object]] = {}
    for assignment_id, criterion_id, value in await Score.filter(
            assignment__panel_id=panel.id).values_list("assignment_id", "criterion_id", "value"):
        scores.setdefault(assignment_id, {})[criterion_id] = value
    bids = {}
    if show_names:
        bids = {b.id: b for b in await Bid.filter(id__in=list(codes)).select_related("lead_org")}
    header = [_("申报代码")]
    if show_names:
        header += [_("申报编号"), _("牵头单位")]
    header += [_("评审专家"), _("状态"), _("提交时间")]
    header += [f"{c.name}（{_('满分')}{c.max_score}）" for c in criteria]
    header += [_("加权总分"), _("总体评价")]
    numbers: dict[int, int] = {}

    def rows():
        for item in items:
            line = [blind.label(codes.get(item.bid_id, "?"))]
            if show_names:
                bid = bids.get(item.bid_id)
                line += [bid.number, bid.lead_org.name] if bid else ["", ""]
            numbers.setdefault(item.expert_id, len(numbers) + 1)
            expert = item.expert.name if show_names else _("专家 %(n)s", n=numbers[item.expert_id])
            line += [expert, item.status, item.submitted_at]
            line += [scores.get(item.id, {}).get(c.id, "") for c in criteria]
            line += [totals.get(item.id, ""), item.opinion]
            yield line

    return await export_response(_fmt(fmt), f"panel-{panel.id}-scores", header, rows())
