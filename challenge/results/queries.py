"""What the results pages and feeds show, each in a fixed number of queries."""

from collections import Counter
from dataclasses import dataclass, field

from tortoise.functions import Count

from challenge.challenges.models import Challenge
from challenge.challenges.services import FeedEntry
from challenge.results.models import (
    Decision,
    DecisionEntry,
    Notice,
    NoticeKind,
    NoticeStatus,
    Objection,
    ObjectionStatus,
)
from challenge.results.services import notice_link, partner_names
from challenge.reviews.models import RESULT_PURPOSES, Panel, PanelStatus
from challenge.web.i18n import _
from challenge.web.timefmt import format_datetime


@dataclass
class EntryView:
    entry: DecisionEntry  # with bid and bid.lead_org
    partners: list[str]


@dataclass
class NoticeView:
    notice: Notice  # with challenge, stage and decision
    entries: list[EntryView] = field(default_factory=list)

    @property
    def selected(self) -> list[EntryView]:
        return [e for e in self.entries if e.entry.selected]

    @property
    def departures(self) -> list[EntryView]:
        """Bids the ranking or the panel put forward that were not chosen (shown without names)."""
        return [e for e in self.entries if not e.entry.selected and e.entry.reason]


async def notice_views(notices: list[Notice], *, selected_only: bool = False) -> list[NoticeView]:
    """Each notice with its decision's entries (bid, lead organisation, partners): two queries."""
    decision_ids = [n.decision_id for n in notices if n.decision_id]
    query = DecisionEntry.filter(decision_id__in=decision_ids or [0])
    if selected_only:
        query = query.filter(selected=True)
    entries = await query.select_related("bid", "bid__lead_org").order_by("decision_id", "rank", "id")
    partners = await partner_names([e.bid_id for e in entries])
    by_decision: dict[int, list[EntryView]] = {}
    for entry in entries:
        by_decision.setdefault(entry.decision_id, []).append(EntryView(entry, partners[entry.bid_id]))
    return [NoticeView(notice=n, entries=by_decision.get(n.decision_id, [])) for n in notices]


def _notices():
    """The notices of challenges (other kinds, such as the catalogue's, have their own pages)."""
    return Notice.filter(challenge_id__isnull=False).select_related("challenge", "stage", "decision")


async def open_notices() -> list[Notice]:
    return await _notices().filter(status=NoticeStatus.OPEN).order_by("ends_at", "id")


def announced_notices():
    return _notices().filter(status=NoticeStatus.ANNOUNCED).order_by("-closed_at", "-id")


async def notice(notice_id: int) -> Notice | None:
    return await _notices().get_or_none(id=notice_id)


async def challenge_notices(challenge_id: int) -> list[Notice]:
    """Every notice of a challenge (stages included, withdrawn ones too), newest first."""
    return await _notices().filter(challenge_id=challenge_id).order_by("-published_at", "-id")


async def panels_awaiting_decision() -> list[dict]:
    """Concluded panels whose result is not on notice (no decision yet, a decision not yet
    published, or a notice withdrawn after an upheld objection), newest first."""
    concluded = await Panel.filter(status=PanelStatus.CONCLUDED, purpose__in=list(RESULT_PURPOSES)) \
        .select_related("challenge", "stage").order_by("-id")
    latest = {d.panel_id: d for d in await Decision.filter(panel_id__in=[p.id for p in concluded] or [0])
              .order_by("revision")}
    published = {n.decision_id: n for n in await Notice.filter(decision_id__in=[d.id for d in latest.values()]
                                                                 or [0])}
    waiting = []
    for panel in concluded:
        decision = latest.get(panel.id)
        notice = published.get(decision.id) if decision else None
        if notice is None or notice.status == NoticeStatus.SUPERSEDED:
            waiting.append({"panel": panel, "draft": decision is not None and notice is None})
    return waiting


async def objection_counts(notice_ids: list[int]) -> dict[int, Counter]:
    rows = await Objection.filter(notice_id__in=notice_ids or [0]).group_by("notice_id", "status") \
        .annotate(n=Count("id")).values_list("notice_id", "status", "n")
    counts: dict[int, Counter] = {notice_id: Counter() for notice_id in notice_ids}
    for notice_id, status, n in rows:
        counts[notice_id][ObjectionStatus(status)] = n
    return counts


async def revised_by(notice: Notice) -> Notice | None:
    """The notice that replaced a withdrawn one, if published yet."""
    return await Notice.get_or_none(replaces_id=notice.id)


async def objection(objection_id: int) -> Objection | None:
    return await Objection.get_or_none(id=objection_id, notice__challenge_id__isnull=False).select_related(
        "notice", "notice__challenge", "notice__stage", "answered_by", "objector")


async def own_objections(notice: Notice, user) -> list[Objection]:
    if user is None:
        return []
    return await Objection.filter(notice_id=notice.id, objector_id=user.id).order_by("filed_at", "id")


def notice_title(notice: Notice) -> str:
    if notice.kind == NoticeKind.STAGE:
        return _("阶段晋级公示：%(title)s · %(stage)s", title=notice.challenge.title, stage=notice.stage.name)
    return _("评审结果公示：%(title)s", title=notice.challenge.title)


def _names(view: NoticeView) -> str:
    return "、".join(item.entry.bid.lead_org.name for item in view.selected)


async def feed_entries(limit: int, challenge_id: int | None = None) -> list[FeedEntry]:
    """Notices published, withdrawn and announced, newest first, naming who is proposed or chosen."""
    query = _notices()
    if challenge_id is not None:
        query = query.filter(challenge_id=challenge_id)
    entries = []
    for view in await notice_views(await query.order_by("-published_at", "-id").limit(limit), selected_only=True):
        item, stage = view.notice, view.notice.kind == NoticeKind.STAGE
        proposed = _("拟晋级团队：%(names)s", names=_names(view)) if stage else \
            _("拟揭榜单位：%(names)s", names=_names(view))
        entries.append(FeedEntry(key=f"notice:{item.id}", title=notice_title(item), path=notice_link(item),
                                 updated=item.published_at,
                                 summary=proposed + "\n" + _("公示期至 %(end)s", end=format_datetime(item.ends_at))))
        if item.status == NoticeStatus.ANNOUNCED:
            chosen = _("晋级团队：%(names)s", names=_names(view)) if stage else \
                _("揭榜单位：%(names)s", names=_names(view))
            entries.append(FeedEntry(key=f"notice:{item.id}:announced", path=notice_link(item) + "#announcement",
                                     title=_("阶段晋级结果：%(title)s · %(stage)s", title=item.challenge.title,
                                             stage=item.stage.name) if stage
                                     else _("结果公告：%(title)s", title=item.challenge.title), updated=item.closed_at,
                                     summary="\n".join(part for part in (chosen, item.announcement) if part)))
        elif item.status == NoticeStatus.SUPERSEDED:
            entries.append(FeedEntry(key=f"notice:{item.id}:withdrawn", path=notice_link(item),
                                     title=_("公示撤回：%(title)s", title=item.challenge.title), updated=item.closed_at,
                                     summary=_("异议经核实成立，本公示撤回，重新评审后将再次公示。")))
    return sorted(entries, key=lambda e: e.updated, reverse=True)[:limit]


async def public_challenge(challenge_id: int) -> Challenge | None:
    challenge = await Challenge.get_or_none(id=challenge_id)
    return challenge if challenge is not None and challenge.is_public else None
