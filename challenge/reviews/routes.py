"""Expert review pages: experts at /review, organisers at /review/manage."""

from dataclasses import dataclass

from markupsafe import Markup
from starlette.datastructures import ImmutableMultiDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route
from tortoise.expressions import Q
from tortoise.functions import Count

from challenge.accounts.models import Organisation, OrgStatus, Role, User
from challenge.catalog.models import Domain
from challenge.challenges.models import Challenge, ChallengeStatus, RubricCriterion, Stage
from challenge.errors import DomainError
from challenge.files.models import Blob
from challenge.files.services import download_response
from challenge.files.uploads import limits_of
from challenge.reviews import (
    aggregation,
    blind,
    chairing,
    exports,
    forms,
    judgements,
    panels,
    permissions,
    queries,
    services,
    subjects,
)
from challenge.reviews.conflicts import conflicts_for_panel
from challenge.reviews.models import (
    ACTIVE_ASSIGNMENT_STATES,
    RESULT_PURPOSES,
    LIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentStatus,
    Availability,
    ConflictDeclaration,
    ConflictKind,
    ExpertInvitation,
    ExpertProfile,
    Panel,
    PanelBid,
    PanelMember,
    PanelStatus,
    ReviewOpinion,
    Score,
    StageResult,
)
from challenge.web.auth import end_session, require_organiser, require_role
from challenge.web.flash import flash
from challenge.web.forms import Form, parse_ids, read_form
from challenge.web.http import redirect
from challenge.web.i18n import get_locale
from challenge.web.i18n import gettext as _
from challenge.web.once import create_once
from challenge.web.pagination import page_number, paginate
from challenge.web.pagecache import remembered
from challenge.web.templating import render, templates
from challenge.web.timefmt import now_utc

# Challenges an organiser can form panels for.
REVIEW_CHALLENGE_STATES = [ChallengeStatus.CLOSED, ChallengeStatus.REVIEWING, ChallengeStatus.NOTICE,
                           ChallengeStatus.ANNOUNCED, ChallengeStatus.DELIVERING]


def _int(request: Request, name: str) -> int:
    try:
        return int(request.path_params[name])
    except (KeyError, ValueError):
        raise HTTPException(404) from None


# == experts ===================================================================================

# An expert on many panels can have thousands of assignments: a page of them at a time, and a
# bounded list of the panels he leads.
TASKS_PER_PAGE = 50
CHAIRED_SHOWN = 50


async def tasks(request: Request):
    user = require_role(request, Role.EXPERT)
    live = list(LIVE_ASSIGNMENT_STATES)
    # Only the columns the page shows: an assignment's or a panel's timestamps and a challenge's
    # texts are costly to load and unused here (an expert can have 14,000 assignments).
    mine = Assignment.filter(expert=user, status__in=live).only("id", "panel_id", "bid_id", "status", "reason")
    page = await paginate(mine.order_by("-panel_id", "id"), page_number(request.query_params.get("page")),
                          per_page=TASKS_PER_PAGE)
    items = page.items
    panel_ids = list({a.panel_id for a in items})
    codes, progress, panels, titles, stages = {}, {}, {}, {}, {}
    if items:
        # The few panels of the page once each, not joined onto each of its 50 rows.
        panels = {p.id: p for p in await Panel.filter(id__in=panel_ids).only(
            "id", "name", "due_at", "challenge_id", "stage_id")}
        titles = dict(await Challenge.filter(id__in=list({p.challenge_id for p in panels.values()})).values_list(
            "id", "title"))
        stage_ids = [p.stage_id for p in panels.values() if p.stage_id]
        stages = dict(await Stage.filter(id__in=stage_ids).values_list("id", "name")) if stage_ids else {}
        codes = {(panel_id, bid_id): code for panel_id, bid_id, code in await PanelBid.filter(
            panel_id__in=panel_ids, bid_id__in=list({a.bid_id for a in items})).values_list("panel_id", "bid_id", "code")}
        # Each panel's progress over all of the expert's assignments, not only those on this page.
        for panel_id, status, n in await Assignment.filter(expert=user, status__in=live, panel_id__in=panel_ids).group_by(
                "panel_id", "status").annotate(n=Count("id")).values_list("panel_id", "status", "n"):
            counts = progress.setdefault(panel_id, {"n": 0, "done": 0})
            counts["n"] += n
            counts["done"] += n if status == AssignmentStatus.SUBMITTED else 0
    groups: dict[int, dict] = {}
    for item in items:
        panel = panels[item.panel_id]
        group = groups.setdefault(item.panel_id, {
            "panel": panel, "challenge_title": titles.get(panel.challenge_id, "") if panel.challenge_id else panel.name,
            "stage_name": stages.get(panel.stage_id), "items": [], **progress[item.panel_id]})
        group["items"].append({"assignment": item, "code": codes.get((item.panel_id, item.bid_id), "?")})
    leading = Panel.filter(Q(members__is_chair=True) | Q(members__is_deputy=True), members__expert_id=user.id)
    chaired = await leading.only("id", "name", "status").order_by("-id").limit(CHAIRED_SHOWN)
    return render(request, "reviews/tasks.html", {
        # Formats translated once for the page (the template's _() formats on each call).
        "f_bid": _("申报 %(code)s"), "f_done": _("已提交 %(done)s / %(n)s"),
        "groups": list(groups.values()), "page": page, "chaired": chaired,
        "chaired_total": await PanelMember.filter(Q(is_chair=True) | Q(is_deputy=True), expert_id=user.id).count()
        if len(chaired) == CHAIRED_SHOWN else len(chaired),
        "now": now_utc(),
    })


async def profile(request: Request):
    user = require_role(request, Role.EXPERT)
    record = await services.profile_or_blank(user)
    domains = await Domain.filter(is_active=True).order_by("sort_order")
    selected = [d.id for d in await record.domains.all()] if record.pk else []
    form = Form(ImmutableMultiDict([
        ("organisation_name", record.organisation_name or (user.organisation.name if user.organisation else "")),
        ("credit_code", record.credit_code), ("title", record.title or user.title), ("keywords", record.keywords),
        ("bio", record.bio), ("availability", record.availability.value),
        *[("domains", str(domain_id)) for domain_id in selected],
    ]))
    if request.method == "POST":
        form = Form(await read_form(request))
        data = forms.parse_profile(form, [d.id for d in domains])
        if form.is_valid:
            revoked = await services.update_profile(user=user, **data)
            flash(request, _("专家信息已保存") + (_("；因利益冲突撤销了 %(n)s 项评审任务", n=len(revoked)) if revoked
                                                else ""))
            return redirect("/review/profile")
        selected = data["domain_ids"]
    return render(request, "reviews/profile.html", {
        "form": form, "domains": [(d.id, d.label) for d in domains], "selected": selected,
        "availability": Availability.choices(), "user": user,
    }, status_code=form.status_code)


async def conflicts(request: Request):
    user = require_role(request, Role.EXPERT)
    organisations = await Organisation.filter(status=OrgStatus.APPROVED).order_by("name").values_list("id", "name")
    form = Form({"kind": ConflictKind.ORGANISATION.value})
    if request.method == "POST":
        form = Form(await read_form(request))
        data = forms.parse_declaration(form, [org_id for org_id, _name in organisations])
        if form.is_valid:
            organisation = await Organisation.get_or_none(id=data.pop("organisation_id")) \
                if data.get("organisation_id") else None
            data.pop("organisation_id", None)
            try:
                await create_once(form, user=user, location=lambda _declaration: "/review/conflicts",
                                  create=lambda: services.declare_conflict(expert=user, organisation=organisation,
                                                                           **data))
            except DomainError as error:
                form.add_errors(error.errors or {"name": error.message})
            else:
                flash(request, _("利益冲突已登记，相关评审任务将自动回避"))
                return redirect("/review/conflicts")
    declarations = await ConflictDeclaration.filter(expert=user).select_related("organisation")
    return render(request, "reviews/conflicts.html", {
        "form": form, "declarations": declarations, "organisations": list(organisations),
        "kinds": ConflictKind.choices(),
    }, status_code=form.status_code)


async def conflict_delete(request: Request):
    user = require_role(request, Role.EXPERT)
    declaration = await ConflictDeclaration.get_or_none(id=_int(request, "declaration_id"), expert=user)
    if declaration is None:
        raise HTTPException(404)
    await services.withdraw_declaration(declaration=declaration, actor=user)
    flash(request, _("已撤回该利益冲突申报"))
    return redirect("/review/conflicts")


async def invitation(request: Request):
    token = request.path_params["token"]
    invite = await services.invitation_for_token(token)
    if invite is None:
        return render(request, "reviews/invitation_invalid.html", status_code=404)
    existing = await User.get_or_none(email=invite.email)
    form = Form()
    if request.method == "POST":
        form = Form(await read_form(request))
        password = None
        if existing is None:
            password = form.text("password", required=True, strip=False)
            if form.text("password_confirm", strip=False) != password:
                form.error("password_confirm", _("两次输入的密码不一致"))
        if form.is_valid:
            try:
                await services.accept_invitation(token=token, password=password)
            except DomainError as error:
                form.add_errors(error.errors or {"password": error.message})
            else:
                await end_session(request)
                flash(request, _("您已加入评审专家库，请登录后完善专家信息并申报利益冲突"))
                return redirect("/login?next=/review/profile")
        form.data.pop("password", None)
        form.data.pop("password_confirm", None)
    return render(request, "reviews/invitation.html", {"form": form, "invite": invite, "existing": existing},
                  status_code=form.status_code)


async def _expert_assignment(request: Request, user) -> tuple[Assignment, PanelBid]:
    """The signed-in expert's own task; a conflicted expert never sees the bid (404)."""
    assignment = await Assignment.get_or_none(id=_int(request, "assignment_id")).select_related(
        "panel", "panel__challenge", "panel__stage", "bid")
    if assignment is None or not permissions.can_open_assignment(user, assignment):
        raise HTTPException(404)
    pairs = await conflicts_for_panel(assignment.panel, expert_ids=[user.id], bid_ids=[assignment.bid_id])
    if pairs:
        await services.recheck_expert(expert=user)
        raise HTTPException(404)
    entry = await PanelBid.get(panel_id=assignment.panel_id, bid_id=assignment.bid_id)
    return assignment, entry


async def _criteria(panel: Panel) -> list[RubricCriterion]:
    return await services.rubric_of(panel)


async def _holder_name(panel: Panel) -> str:
    """The organisation whose technology a panel outside any challenge reviews ("" for a challenge's)."""
    holder = await Organisation.get_or_none(id=panel.holder_id) if panel.holder_id else None
    return holder.name if holder else ""


async def _score_form(assignment: Assignment, criteria, targets) -> Form:
    scores = {s.criterion_id: s for s in await Score.filter(assignment=assignment)}
    data = {"opinion": assignment.opinion}
    for criterion in criteria:
        score = scores.get(criterion.id)
        data[f"score_{criterion.id}"] = "" if score is None or score.value is None else str(score.value)
        data[f"comment_{criterion.id}"] = score.comment if score else ""
    judged = await judgements.saved(assignment) if targets else {}
    for target in targets:
        row = judged.get(target.id)
        data[f"judge_{target.id}"] = "" if row is None or row.met is None else ("met" if row.met else "not_met")
        data[f"judge_note_{target.id}"] = row.comment if row else ""
    return Form(data)


async def _panel_scores_for(assignment: Assignment, user, chair_id, criteria) -> list[dict]:
    """Every submitted review of the same bid (anonymised as 专家 1, 2 …), once the viewer may see them."""
    if not permissions.can_see_panel_scores(user, assignment, chair_id):
        return []
    others = await Assignment.filter(panel_id=assignment.panel_id, bid_id=assignment.bid_id,
                                     status=AssignmentStatus.SUBMITTED).order_by("id")
    totals = await queries.assignment_totals(panel_id=assignment.panel_id,
                                             criteria=await services.criteria_for(assignment.panel),
                                             bid_id=assignment.bid_id)
    scores: dict[int, dict[int, Score]] = {}
    for score in await Score.filter(assignment_id__in=[o.id for o in others]):
        scores.setdefault(score.assignment_id, {})[score.criterion_id] = score
    return [{
        "label": _("本人") if other.expert_id == user.id else _("专家 %(n)s", n=position),
        "total": totals.get(other.id),
        "scores": [scores.get(other.id, {}).get(c.id) for c in criteria],
        "opinion": other.opinion,
    } for position, other in enumerate(others, start=1)]


async def assignment_page(request: Request):
    user = require_role(request, Role.EXPERT)
    assignment, entry = await _expert_assignment(request, user)
    challenge = assignment.panel.challenge
    criteria = await _criteria(assignment.panel)
    targets = await judgements.targets_of(assignment.panel)
    form = await _score_form(assignment, criteria, targets)
    status_code = 200
    if request.method == "POST":
        form = Form(await read_form(request))
        values, comments, opinion, submit = forms.parse_scores(form, criteria)
        judged, notes = forms.parse_judgements(form, targets, submit)
        if form.is_valid:
            try:
                await judgements.save_review(assignment=assignment, panel=assignment.panel, criteria=criteria,
                                             values=values, comments=comments, opinion=opinion, judgements=judged,
                                             notes=notes, submit=submit, actor=user)
            except DomainError as error:
                form.add_errors(error.errors or {"opinion": error.message})
            else:
                flash(request, _("评分已提交并锁定") if submit else _("草稿已保存"))
                return redirect(f"/review/assignments/{assignment.id}")
        status_code = 400
    chair_id = await services.chair_id_of(assignment.panel)
    return render(request, "reviews/assignment.html", {
        "assignment": assignment, "panel": assignment.panel, "challenge": challenge, "criteria": criteria,
        "subject": await subjects.subject_for(assignment.panel, assignment.bid, entry.code), "targets": targets,
        "judge_choices": forms.judgement_choices(), "judge_labels": dict(forms.judgement_choices()),
        "form": form, "editable": permissions.can_edit_scores(assignment),
        "can_decline": permissions.can_decline(assignment),
        "panel_scores": await _panel_scores_for(assignment, user, chair_id, criteria),
        "is_chair": permissions.is_chair(user, chair_id),
    }, status_code=status_code)


async def decline(request: Request):
    user = require_role(request, Role.EXPERT)
    assignment, entry = await _expert_assignment(request, user)
    form = Form(await read_form(request))
    reason = form.text("reason", required=True, max_length=500)
    if form.is_valid:
        try:
            await services.decline_assignment(assignment=assignment, actor=user, reason=reason)
        except DomainError as error:
            flash(request, error.message, "error")
            return redirect(f"/review/assignments/{assignment.id}")
        flash(request, _("已拒绝评审%(code)s，项目管理办公室将安排其他专家", code=blind.label(entry.code)))
        return redirect("/review/")
    flash(request, _("请说明拒绝的原因"), "error")
    return redirect(f"/review/assignments/{assignment.id}#decline")


async def download(request: Request):
    user = require_role(request, Role.EXPERT)
    assignment, entry = await _expert_assignment(request, user)
    subject = await subjects.subject_for(assignment.panel, assignment.bid, entry.code)
    files, is_blind = subject.files, subject.blind
    number = _int(request, "number")
    if not 1 <= number <= len(files):
        raise HTTPException(404)
    item = files[number - 1]
    blob = await Blob.get_or_none(id=item.blob_id)
    if blob is None or item.withheld:
        raise HTTPException(404)
    storage = request.app.state.storage
    if is_blind:
        blob = await blind.sanitised_copy(storage=storage, blob=blob, limits=limits_of(request))
    return download_response(storage, blob, item.name)


# -- the chair ---------------------------------------------------------------------------------

async def _chair_panel(request: Request, user) -> tuple[Panel, chairing.Chairing]:
    """The panel the chair (or the deputy chair) leads, with who may see and act on which bid."""
    panel = await Panel.get_or_none(id=_int(request, "panel_id")).select_related("challenge", "stage")
    if panel is None:
        raise HTTPException(404)
    roles = await _chairing(request, panel)
    if not roles.leads(user):
        raise HTTPException(404)
    return panel, roles


async def _chairing(request: Request, panel: Panel) -> chairing.Chairing:
    """Who chairs and who is conflicted with which bid: recomputed only when the data changes."""
    return await remembered(request, ("chairing", panel.id), lambda: chairing.chairing_of(panel))


async def _viewer_ranking(request: Request, panel: Panel, *, show_names: bool,
                          hidden: frozenset[int] = frozenset(), rules_open: bool = False) -> dict:
    """The ranking context, computed once per data version for each way it is shown: the key
    holds what the viewer may see (names, and the bids hidden from him by his conflicts)."""
    key = ("ranking", panel.id, show_names, tuple(sorted(hidden)))
    cached = await remembered(request, key, lambda: _ranking_context(panel, show_names=show_names, hidden=hidden))
    context = dict(cached)
    # The table of 1,000 rows, rendered once per version, language and viewer's view.
    context["ranking_table"] = await remembered(
        request, ("ranking_table", *key[1:], get_locale(), rules_open),
        lambda: _render_table({**context, "rules_open": rules_open}))
    return context


async def _render_table(context: dict) -> Markup:
    # "申报 %(code)s" translated once for the 1,000 rows (the template's _() formats on each call).
    return Markup(templates.env.get_template("reviews/_ranking_table_alone.html").render(
        {**context, "locale": get_locale(), "bid_label": _("申报 %(code)s")}))


@dataclass(frozen=True)
class RankedEntry:
    """What the ranking shows of a bid besides its scores (title and lead only when names are shown)."""

    code: str
    title: str
    lead_org_name: str


async def _ranking_context(panel: Panel, *, show_names: bool, hidden: frozenset[int] = frozenset()) -> dict:
    """The ranking as one viewer may see it: the bids in `hidden` (he is conflicted with them)
    are left out entirely, and the others are numbered among themselves."""
    criteria_rows = await _criteria(panel)
    criteria = [aggregation.CriterionInfo(id=c.id, name=c.name, weight=c.weight, max_score=c.max_score,
                                          position=c.position) for c in criteria_rows]
    rule = panel.aggregation_rule(panel.challenge)
    ranked = await services.ranking(panel=panel, aggregation_rule=rule, criteria=criteria)
    if hidden:
        ranked = [row for row in ranked if row.bid_id not in hidden]
        for position, row in enumerate(ranked, start=1):
            row.rank = position
    # Plain values, not 1,000 bids and organisations as ORM objects with every column converted.
    if show_names:
        rows = await PanelBid.filter(panel=panel).values_list("bid_id", "code", "bid__title", "bid__lead_org__name")
    else:
        rows = [(bid_id, code, "", "") for bid_id, code in await PanelBid.filter(panel=panel).values_list(
            "bid_id", "code")]
    holder_name = await _holder_name(panel)  # the one entry of a panel outside any challenge has no bid
    shown_holder = holder_name if show_names else ""
    by_bid = {bid_id: RankedEntry(code=code, title=title or "", lead_org_name=org or shown_holder)
              for bid_id, code, title, org in rows if bid_id not in hidden}
    opinion = await ReviewOpinion.get_or_none(panel=panel).select_related("recorded_by")
    recommended = set()
    if opinion is not None:
        recommended = set(await opinion.recommended.all().values_list("id", flat=True))
    counts = dict(await Assignment.filter(panel=panel, status__in=list(ACTIVE_ASSIGNMENT_STATES)).group_by(
        "bid_id").annotate(n=Count("id")).values_list("bid_id", "n"))
    stage_results = {r.bid_id: r for r in await StageResult.filter(panel=panel) if r.bid_id not in hidden}
    recommended -= hidden
    withdrawn = await queries.withdrawn_reviews(panel_id=panel.id, criteria=criteria, hidden=hidden)
    withdrawn_counts: dict[int, int] = {}
    for item in withdrawn:
        withdrawn_counts[item["assignment"].bid_id] = withdrawn_counts.get(item["assignment"].bid_id, 0) + 1
    return {
        "withdrawn": withdrawn, "withdrawn_counts": withdrawn_counts, "to_2dp": aggregation.to_2dp,
        "panel": panel, "challenge": panel.challenge, "criteria": criteria, "ranked": ranked, "entries": by_bid,
        "aggregation": rule, "holder_name": holder_name,
        "opinion": opinion, "recommended": recommended, "assigned_counts": counts,
        "tie_rules": aggregation.tie_rule_text(), "show_names": show_names,
        "limit": panels.recommend_limit(panel.challenge, panel.stage, panel.purpose), "stage_results": stage_results,
        "trim_min": aggregation.TRIM_MIN_COUNT,
    }


async def _chair_context(request: Request, panel: Panel, user, roles: chairing.Chairing,
                        form: Form | None = None) -> dict:
    hidden = roles.hidden_from(user.id)
    context = await _viewer_ranking(request, panel, show_names=not panel.is_blind(panel.challenge), hidden=hidden)
    items = await Assignment.filter(panel=panel, status__in=list(ACTIVE_ASSIGNMENT_STATES | {
        AssignmentStatus.DECLINED})).exclude(bid_id__in=list(hidden)).select_related("expert").order_by("bid_id", "id")
    totals = await queries.assignment_totals(panel_id=panel.id, criteria=context["criteria"])
    per_bid: dict[int, list] = {}
    for item in items:
        per_bid.setdefault(item.bid_id, []).append({"assignment": item, "total": totals.get(item.id)})
    opinion = context["opinion"]
    if form is None:
        form = Form({"text": opinion.text if opinion and roles.may_record_opinion(user) else ""})
    context.update({
        "per_bid": per_bid, "form": form, "outstanding": await services.outstanding_count(panel),
        "can_reopen": panel.status != PanelStatus.CONCLUDED,
        "actable": {bid_id for bid_id in context["entries"] if roles.may_act_on(user, bid_id)},
        "hidden_count": len(hidden), "is_deputy": user.id == roles.deputy_id,
        "may_record_opinion": roles.may_record_opinion(user),
        # Another's opinion covers bids this viewer may not see: he sees that it exists, not its text.
        "opinion_hidden": bool(hidden),
    })
    return context


async def chair_page(request: Request):
    user = require_role(request, Role.EXPERT)
    panel, roles = await _chair_panel(request, user)
    return render(request, "reviews/chair.html", await _chair_context(request, panel, user, roles))


async def reopen(request: Request):
    user = require_role(request, Role.EXPERT)
    panel, roles = await _chair_panel(request, user)
    assignment = await Assignment.get_or_none(id=_int(request, "assignment_id"), panel=panel)
    if assignment is None or assignment.bid_id in roles.hidden_from(user.id):
        raise HTTPException(404)
    await _post_reopen(request, assignment, user)
    return redirect(f"/review/panels/{panel.id}")


async def _post_reopen(request: Request, assignment: Assignment, user) -> None:
    """Return a submitted review to its expert with the posted reason; the outcome is flashed."""
    form = Form(await read_form(request))
    reason = form.text("reason", required=True, max_length=500)
    if not form.is_valid:
        flash(request, _("请说明退回的原因"), "error")
        return
    try:
        await services.reopen_assignment(assignment=assignment, actor=user, reason=reason)
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("评分已退回给专家修改"))


async def _post_opinion(request: Request, panel: Panel, user) -> tuple[Form, list[int]]:
    """Parse the opinion form and record it; the form comes back valid when it was recorded."""
    form = Form(await read_form(request))
    text = form.text("text", required=True, max_length=5000)
    recommended = parse_ids(form.getlist("recommended"))
    if form.is_valid:
        try:
            await services.record_opinion(panel=panel, actor=user, text=text, recommended_ids=recommended)
        except DomainError as error:
            form.add_errors(error.errors or {"text": error.message})
        else:
            flash(request, _("专家组意见已记录"))
    return form, recommended


async def opinion(request: Request):
    user = require_role(request, Role.EXPERT)
    panel, roles = await _chair_panel(request, user)
    if not roles.may_record_opinion(user):
        raise HTTPException(403, _("组长与本组部分申报存在利益冲突，专家组意见由副组长或项目管理办公室形成"))
    form, recommended = await _post_opinion(request, panel, user)
    if form.is_valid:
        return redirect(f"/review/panels/{panel.id}")
    context = await _chair_context(request, panel, user, roles, form)
    context["recommended"] = set(recommended)
    return render(request, "reviews/chair.html", context, status_code=400)


async def chair_export(request: Request):
    user = require_role(request, Role.EXPERT)
    panel, roles = await _chair_panel(request, user)
    fmt = request.path_params["fmt"]
    # Blind-safe: codes only, whatever the challenge; nothing of a bid the viewer is conflicted with.
    return await exports.ranking_export(panel=panel, fmt=fmt, show_names=False, hidden=roles.hidden_from(user.id))


# == organisers ================================================================================

async def manage_index(request: Request):
    require_organiser(request)
    now = now_utc()
    challenges = await Challenge.filter(
        Q(status__in=REVIEW_CHALLENGE_STATES) | Q(status=ChallengeStatus.PUBLISHED, closes_at__lte=now)
    ).prefetch_related("stages").order_by("-id")
    formed = await Panel.filter(challenge_id__in=[c.id for c in challenges]).select_related("stage").order_by("id")
    progress = await services.panel_progress([p.id for p in formed])
    by_challenge: dict[int, list] = {}
    for panel in formed:
        totals = {s.value: 0 for s in AssignmentStatus}
        for counts in progress.get(panel.id, {}).values():
            for status, n in counts.items():
                totals[status] += n
        by_challenge.setdefault(panel.challenge_id, []).append({"panel": panel, "totals": totals})
    taken = {(p.challenge_id, p.stage_id) for p in formed if p.purpose in RESULT_PURPOSES}
    formable = {
        c.id for c in challenges
        if any(panels.can_form_panel(c, stage, now) and (c.id, stage.id if stage else None) not in taken
               for stage in [None, *c.stages])
    }
    return render(request, "reviews/manage_index.html", {
        "challenges": challenges, "panels": by_challenge, "statuses": list(AssignmentStatus),
        "now": now, "formable": formable,
    })


async def experts(request: Request):
    require_organiser(request)
    q = request.query_params.get("q", "").strip()
    query = User.filter(is_expert=True).select_related("organisation").order_by("id")
    if q:
        query = query.filter(Q(name__icontains=q) | Q(email__icontains=q))
    page = await paginate(query, page_number(request.query_params.get("page")))
    profiles = {p.user_id: p for p in await ExpertProfile.filter(
        user_id__in=[u.id for u in page.items]).prefetch_related("domains")}
    invitations = await ExpertInvitation.filter(accepted_at__isnull=True, revoked_at__isnull=True).order_by("-id")
    return render(request, "reviews/experts.html", {
        "page": page, "profiles": profiles, "invitations": invitations, "form": Form(), "q": q, "now": now_utc(),
    })


async def invite(request: Request):
    user = require_organiser(request)
    form = Form(await read_form(request))
    data = forms.parse_invitation(form)
    if form.is_valid:
        try:
            await create_once(form, user=user, location=lambda _invitation: "/review/manage/experts",
                              create=lambda: services.invite_expert(
                                  actor=user, base_url=request.app.state.settings.base_url, **data))
        except DomainError as error:
            form.add_errors(error.errors or {"email": error.message})
        else:
            flash(request, _("邀请邮件已发送至 %(email)s", email=data["email"]))
            return redirect("/review/manage/experts")
    page = await paginate(User.filter(is_expert=True).select_related("organisation").order_by("id"), 1)
    profiles = {p.user_id: p for p in await ExpertProfile.filter(
        user_id__in=[u.id for u in page.items]).prefetch_related("domains")}
    invitations = await ExpertInvitation.filter(accepted_at__isnull=True, revoked_at__isnull=True).order_by("-id")
    return render(request, "reviews/experts.html", {
        "page": page, "profiles": profiles, "invitations": invitations, "form": form, "q": "", "now": now_utc(),
    }, status_code=400)


async def panel_new(request: Request):
    user = require_organiser(request)
    challenge = await Challenge.get_or_none(id=_int(request, "challenge_id"))
    if challenge is None or challenge.shown_status(now_utc()) not in REVIEW_CHALLENGE_STATES:
        raise HTTPException(404)
    stages = await Stage.filter(challenge=challenge).order_by("position", "id")
    pool = await queries.pool_with_conflicts(challenge.id)
    expert_ids = [row["user"].id for row in pool]
    form = Form({"name": _("%(title)s评审专家组", title=challenge.title), "dispersion_threshold": "15"})
    if request.method == "POST":
        form = Form(await read_form(request))
        data = forms.parse_panel(form, expert_ids, [s.id for s in stages])
        if form.is_valid:
            chosen = data.pop("stage_id", None)
            stage = next((s for s in stages if s.id == chosen), None)
            try:
                panel = await create_once(
                    form, user=user, location=lambda created: f"/review/manage/panels/{created.id}",
                    create=lambda: panels.create_panel(challenge=challenge, stage=stage, actor=user, **data))
            except DomainError as error:
                form.add_errors(error.errors or {"name": error.message})
            else:
                flash(request, _("评审专家组已组建，请生成分配建议"))
                return redirect(f"/review/manage/panels/{panel.id}")
    return render(request, "reviews/panel_new.html", {
        "form": form, "challenge": challenge, "stages": [(s.id, s.name) for s in stages], "pool": pool,
        "deputies": [(row["user"].id, row["user"].name) for row in pool],
        "selected": parse_ids(form.getlist("members")),
    }, status_code=form.status_code)


async def _managed_panel(request: Request) -> Panel:
    panel = await Panel.get_or_none(id=_int(request, "panel_id")).select_related("challenge", "stage", "created_by")
    if panel is None:
        raise HTTPException(404)
    return panel


async def panel_page(request: Request):
    require_organiser(request)
    panel = await _managed_panel(request)
    members = await PanelMember.filter(panel=panel).select_related("expert", "expert__organisation")
    progress = (await services.panel_progress([panel.id])).get(panel.id, {})
    bid_ids = await PanelBid.filter(panel=panel).values_list("bid_id", flat=True)
    pool = await queries.pool_with_conflicts(panel.challenge_id, bid_ids, holder_id=panel.holder_id)
    bids_count = await PanelBid.filter(panel=panel).count()
    rows = []
    for member in members:
        counts = progress.get(member.expert_id, {})
        rows.append({"member": member, "counts": counts,
                     "open": counts.get("assigned", 0) + counts.get("in_progress", 0)})
    return render(request, "reviews/panel.html", {
        "panel": panel, "challenge": panel.challenge, "rows": rows, "pool": pool, "bids_count": bids_count,
        "k": services.experts_per_entry(panel, panel.challenge, len(members)), "holder_name": await _holder_name(panel),
        "member_ids": [m.expert_id for m in members],
        "chair_id": next((m.expert_id for m in members if m.is_chair), None),
        "deputy_id": next((m.expert_id for m in members if m.is_deputy), None),
        "deputies": [(row["user"].id, row["user"].name) for row in pool],
        "proposed": sum(c.get("proposed", 0) for c in progress.values()),
        "statuses": list(AssignmentStatus), "form": Form(), "late": services.is_late(panel), "now": now_utc(),
        "can_edit_members": permissions.can_edit_members(panel), "can_assign": permissions.can_assign(panel),
    })


async def panel_members(request: Request):
    user = require_organiser(request)
    panel = await _managed_panel(request)
    form = Form(await read_form(request))
    expert_ids = list(await User.filter(is_expert=True, is_active=True).values_list("id", flat=True))
    data = forms.parse_members(form, expert_ids)
    if not permissions.can_edit_members(panel):
        flash(request, _("评审已开始，专家组成员不能再调整"), "error")
    elif not form.is_valid:
        flash(request, next(iter(form.errors.values())), "error")
    else:
        try:
            await services.update_members(panel=panel, actor=user, **data)
        except DomainError as error:
            flash(request, error.message, "error")
        else:
            flash(request, _("专家组成员已更新"))
    return redirect(f"/review/manage/panels/{panel.id}")


async def _assign_context(panel: Panel, form: Form) -> dict:
    entries = await PanelBid.filter(panel=panel).select_related("bid", "bid__lead_org")
    members = await PanelMember.filter(panel=panel).select_related("expert")
    member_ids = [m.expert_id for m in members]
    items = await Assignment.filter(panel=panel).select_related("expert").order_by("id")
    pairs = await conflicts_for_panel(panel, expert_ids=member_ids, bid_ids=[e.bid_id for e in entries])
    per_bid: dict[int, list] = {}
    for item in items:
        per_bid.setdefault(item.bid_id, []).append(item)
    loads = {m.expert_id: 0 for m in members}
    for item in items:
        if item.status in ACTIVE_ASSIGNMENT_STATES:
            loads[item.expert_id] = loads.get(item.expert_id, 0) + 1
    names = {m.expert_id: m.expert.name for m in members}
    rows = []
    for entry in entries:
        active = [a for a in per_bid.get(entry.bid_id, []) if a.status in ACTIVE_ASSIGNMENT_STATES]
        taken = {a.expert_id for a in active}
        excluded = [{"name": names[e], "reasons": pairs[(e, entry.bid_id)]} for e in member_ids
                    if (e, entry.bid_id) in pairs]
        rows.append({
            "entry": entry, "assignments": per_bid.get(entry.bid_id, []), "active": len(active),
            "excluded": excluded,
            "choices": [(m.expert_id, f"{m.expert.name}（{loads.get(m.expert_id, 0)}）"
                         + (_("· 存在利益冲突") if (m.expert_id, entry.bid_id) in pairs else ""))
                        for m in members if m.expert_id not in taken],
        })
    return {
        "panel": panel, "challenge": panel.challenge, "rows": rows, "holder_name": await _holder_name(panel),
        "k": services.experts_per_entry(panel, panel.challenge, len(member_ids)),
        "loads": [(names[e], loads.get(e, 0)) for e in member_ids], "form": form,
        "proposed": sum(1 for a in items if a.status == AssignmentStatus.PROPOSED),
        "can_assign": permissions.can_assign(panel),
    }


async def assign_page(request: Request):
    user = require_organiser(request)
    panel = await _managed_panel(request)
    form = Form()
    if request.method == "POST":
        form = Form(await read_form(request))
        # A panel outside any challenge has one entry, without a bid.
        bid_id = form.integer("bid", required=panel.challenge_id is not None)
        expert_id = form.integer("expert", required=True)
        if form.is_valid:
            try:
                await create_once(form, user=user, location=lambda _made: f"/review/manage/panels/{panel.id}/assign",
                                  create=lambda: services.add_assignment(panel=panel, bid_id=bid_id,
                                                                         expert_id=expert_id, actor=user))
            except DomainError as error:
                form.add_errors(error.errors or {"expert": error.message})
            else:
                flash(request, _("已添加分配"))
                return redirect(f"/review/manage/panels/{panel.id}/assign#bid-{bid_id}")
    context = await _assign_context(panel, form)
    return render(request, "reviews/assign.html", context, status_code=form.status_code)


async def propose(request: Request):
    user = require_organiser(request)
    panel = await _managed_panel(request)
    form = Form(await read_form(request))
    try:
        proposal = await services.propose_assignments(panel=panel, actor=user, fresh=form.boolean("fresh"))
    except DomainError as error:
        flash(request, error.message, "error")
        return redirect(f"/review/manage/panels/{panel.id}")
    added = sum(len(ids) for ids in proposal.added.values())
    if proposal.short:
        flash(request, _("已生成 %(n)s 项分配建议；%(m)s 份申报无冲突专家不足，请增加专家组成员",
                         n=added, m=len(proposal.short)), "warning")
    else:
        flash(request, _("已生成 %(n)s 项分配建议，请检查后确认", n=added))
    return redirect(f"/review/manage/panels/{panel.id}/assign")


async def confirm(request: Request):
    user = require_organiser(request)
    panel = await _managed_panel(request)
    try:
        count = await services.confirm_assignments(panel=panel, actor=user)
    except DomainError as error:
        flash(request, error.message, "error")
        return redirect(f"/review/manage/panels/{panel.id}/assign")
    flash(request, _("已确认 %(n)s 项评审任务，并通知了专家", n=count))
    return redirect(f"/review/manage/panels/{panel.id}")


async def remove(request: Request):
    user = require_organiser(request)
    assignment = await Assignment.get_or_none(id=_int(request, "assignment_id"))
    if assignment is None:
        raise HTTPException(404)
    form = Form(await read_form(request))
    try:
        await services.remove_assignment(assignment=assignment, actor=user, reason=form.text("reason", max_length=500))
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("已撤销该分配"))
    return redirect(f"/review/manage/panels/{assignment.panel_id}/assign#bid-{assignment.bid_id}")


async def remind(request: Request):
    user = require_organiser(request)
    panel = await _managed_panel(request)
    count = await services.send_reminders(actor=user, panel=panel, only_late=False)
    flash(request, _("已向 %(n)s 位专家发送催办提醒", n=count) if count else _("没有需要提醒的专家"),
          "success" if count else "info")
    return redirect(f"/review/manage/panels/{panel.id}")


async def _manage_ranking_context(request: Request, panel: Panel, user, form: Form | None = None) -> dict:
    """The organiser's ranking, with what he does instead of a conflicted chair: reopening the
    reviews of the bids the chair is conflicted with, and the opinion when neither the chair
    nor the deputy may record it."""
    roles = await _chairing(request, panel)
    context = await _viewer_ranking(request, panel, show_names=True, rules_open=True)
    chair_hidden = roles.hidden_from(roles.chair_id)
    covered = await Assignment.filter(panel=panel, status=AssignmentStatus.SUBMITTED,
                                      bid_id__in=list(chair_hidden)).select_related("expert").order_by("bid_id", "id")
    opinion = context["opinion"]
    context.update({
        "outstanding": await services.outstanding_count(panel), "roles": roles,
        "chair_hidden": chair_hidden, "covered": covered,
        "can_reopen": panel.status != PanelStatus.CONCLUDED,
        "may_record_opinion": roles.may_record_opinion(user, organiser=True),
        "form": form or Form({"text": opinion.text if opinion else ""}),
    })
    return context


async def ranking_page(request: Request):
    user = require_organiser(request)
    panel = await _managed_panel(request)
    return render(request, "reviews/ranking.html", await _manage_ranking_context(request, panel, user))


async def manage_reopen(request: Request):
    """The organiser returns a review of a bid the chair is conflicted with."""
    user = require_organiser(request)
    panel = await _managed_panel(request)
    assignment = await Assignment.get_or_none(id=_int(request, "assignment_id"), panel=panel)
    if assignment is None:
        raise HTTPException(404)
    await _post_reopen(request, assignment, user)
    return redirect(f"/review/manage/panels/{panel.id}/ranking")


async def manage_opinion(request: Request):
    """The organiser records the panel's opinion when neither the chair nor the deputy may."""
    user = require_organiser(request)
    panel = await _managed_panel(request)
    if not (await chairing.chairing_of(panel)).may_record_opinion(user, organiser=True):
        raise HTTPException(403, _("专家组意见由组长（或副组长）形成"))
    form, recommended = await _post_opinion(request, panel, user)
    if form.is_valid:
        return redirect(f"/review/manage/panels/{panel.id}/ranking")
    context = await _manage_ranking_context(request, panel, user, form)
    context["recommended"] = set(recommended)
    return render(request, "reviews/ranking.html", context, status_code=400)


async def manage_export(request: Request):
    require_organiser(request)
    panel = await _managed_panel(request)
    fmt, kind = request.path_params["fmt"], request.path_params["kind"]
    if kind == "scores":
        return await exports.scores_export(panel=panel, fmt=fmt, show_names=True)
    if kind == "ranking":
        return await exports.ranking_export(panel=panel, fmt=fmt, show_names=True)
    raise HTTPException(404)


routes = [
    Route("/", tasks, name="tasks"),
    Route("/profile", profile, methods=["GET", "POST"], name="profile"),
    Route("/conflicts", conflicts, methods=["GET", "POST"], name="conflicts"),
    Route("/conflicts/{declaration_id:int}/delete", conflict_delete, methods=["POST"], name="conflict_delete"),
    Route("/invitations/{token}", invitation, methods=["GET", "POST"], name="invitation"),
    Route("/assignments/{assignment_id:int}", assignment_page, methods=["GET", "POST"], name="assignment"),
    Route("/assignments/{assignment_id:int}/decline", decline, methods=["POST"], name="decline"),
    Route("/assignments/{assignment_id:int}/files/{number:int}", download, name="download"),
    Route("/panels/{panel_id:int}", chair_page, name="chair"),
    Route("/panels/{panel_id:int}/reopen/{assignment_id:int}", reopen, methods=["POST"], name="reopen"),
    Route("/panels/{panel_id:int}/opinion", opinion, methods=["POST"], name="opinion"),
    Route("/panels/{panel_id:int}/ranking.{fmt:str}", chair_export, name="chair_export"),
    Route("/manage", manage_index, name="manage"),
    Route("/manage/experts", experts, name="experts"),
    Route("/manage/experts/invite", invite, methods=["POST"], name="invite"),
    Route("/manage/challenges/{challenge_id:int}/panels/new", panel_new, methods=["GET", "POST"], name="panel_new"),
    Route("/manage/panels/{panel_id:int}", panel_page, name="panel"),
    Route("/manage/panels/{panel_id:int}/members", panel_members, methods=["POST"], name="panel_members"),
    Route("/manage/panels/{panel_id:int}/assign", assign_page, methods=["GET", "POST"], name="assign"),
    Route("/manage/panels/{panel_id:int}/propose", propose, methods=["POST"], name="propose"),
    Route("/manage/panels/{panel_id:int}/confirm", confirm, methods=["POST"], name="confirm"),
    Route("/manage/panels/{panel_id:int}/remind", remind, methods=["POST"], name="remind"),
    Route("/manage/panels/{panel_id:int}/ranking", ranking_page, name="ranking"),
    Route("/manage/panels/{panel_id:int}/export/{kind:str}.{fmt:str}", manage_export, name="export"),
    Route("/manage/panels/{panel_id:int}/reopen/{assignment_id:int}", manage_reopen, methods=["POST"],
          name="manage_reopen"),
    Route("/manage/panels/{panel_id:int}/opinion", manage_opinion, methods=["POST"], name="manage_opinion"),
    Route("/manage/assignments/{assignment_id:int}/remove", remove, methods=["POST"], name="remove"),
]
