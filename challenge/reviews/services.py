"""Review rules: the expert pool, panels, assignments, scoring, conflict rechecks, results.

Two functions write statuses: `set_assignment_status` (assignments) and `set_panel_status`
(panels). Experts are told about their work without any name of a bid's parties: a blind
challenge's bids are "申报 A/B/C…" everywhere an expert looks, e-mails included.
"""

import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from challenge.accounts import passwords
from challenge.accounts.models import Organisation, User
from challenge.accounts.services import check_password_strength
from challenge.audit.services import record
from challenge.bids.models import Bid
from challenge.catalog.models import Domain
from challenge.challenges.models import Challenge, RubricCriterion, Stage
from challenge.errors import DomainError, InvalidTransition, NotFound, PermissionDenied
from challenge.mail.services import notify, queue_mail
from challenge.reviews import aggregation, assignment as assigning, blind, chairing, panels, queries
from challenge.reviews.conflicts import conflicts_for_panel
from challenge.reviews.models import (
    ACTIVE_ASSIGNMENT_STATES,
    EDITABLE_ASSIGNMENT_STATES,
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
    PanelPurpose,
    PanelStatus,
    ReviewOpinion,
    Score,
    StageResult,
)
from challenge.web.i18n import gettext as _
from challenge.web.timefmt import format_datetime, now_utc

INVITATION_DAYS = 14
REMIND_AFTER_HOURS = 24
REMIND_BEFORE_DUE_HOURS = 48


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _join(reasons: list[str]) -> str:
    return "；".join(reasons)


# -- status writers -----------------------------------------------------------------------------

async def set_assignment_status(*, assignment: Assignment, status: AssignmentStatus, actor: User | None,
                                reason: str = "", action: str = "", scores: dict[int, str | None] | None = None
                                ) -> Assignment:
    """The only writer of `Assignment.status`.

    Side effects: the audit entry `review.<action or status>` in the caller's transaction, with
    the score values (criterion id -> value) when given (submission, reopening), so that a score
    changed outside the app is found (`reviews.integrity`); `reason` kept on the assignment when
    given; `submitted_at` set on SUBMITTED. Notifications are the caller's business (their
    wording depends on the event).
    """
    before = {"status": assignment.status.value, "reason": assignment.reason}
    assignment.status = status
    if reason:
        assignment.reason = reason
    if status == AssignmentStatus.SUBMITTED:
        assignment.submitted_at = now_utc()
    await assignment.save(update_fields=["status", "reason", "submitted_at", "reopen_count", "updated_at"])
    after = {"status": status.value, "bid_id": assignment.bid_id, "expert_id": assignment.expert_id,
             "panel_id": assignment.panel_id}
    if scores is not None:
        after["scores"] = {str(criterion_id): value for criterion_id, value in sorted(scores.items())}
    await record(
        actor=actor,
        action=f"review.{action or status.value}",
        obj=assignment,
        before=before,
        after=after,
        note=reason,
    )
    return assignment


async def set_panel_status(*, panel: Panel, status: PanelStatus, actor: User | None, note: str = "") -> Panel:
    """The only writer of `Panel.status`. Side effects: the audit entry `panel.<status>`."""
    before = {"status": panel.status.value}
    panel.status = status
    if status == PanelStatus.REVIEWING and panel.confirmed_at is None:
        panel.confirmed_at = now_utc()
    await panel.save(update_fields=["status", "confirmed_at"])
    await record(actor=actor, action=f"panel.{status.value}", obj=panel, before=before,
                 after={"status": status.value, "challenge_id": panel.challenge_id}, note=note)
    return panel


# -- expert pool --------------------------------------------------------------------------------

async def profile_or_blank(user: User) -> ExpertProfile:
    """The saved profile, or an unsaved one with defaults: showing a page never writes."""
    profile = await ExpertProfile.get_or_none(user=user)
    if profile is None:
        profile = ExpertProfile(user=user, organisation_id=user.organisation_id, title=user.title)
    return profile


async def ensure_profile(user: User) -> ExpertProfile:
    profile = await ExpertProfile.get_or_none(user=user)
    if profile is None:
        try:
            profile = await ExpertProfile.create(user=user, organisation_id=user.organisation_id,
                                                 title=user.title)
        except IntegrityError:
            profile = await ExpertProfile.get(user=user)
    return profile


async def invite_expert(*, email: str, name: str, organisation_name: str, title: str, actor: User,
                        base_url: str, valid_days: int = INVITATION_DAYS) -> tuple[ExpertInvitation, str]:
    """Mail a single-use link that expires. Returns the invitation and its token (for the mail only)."""
    email = email.strip().lower()
    existing = await User.get_or_none(email=email)
    if existing is not None and existing.is_expert:
        raise DomainError(_("该用户已在专家库中"), field="email")
    token = secrets.token_urlsafe(32)
    async with in_transaction():
        invitation = await ExpertInvitation.create(
            email=email, name=name, organisation_name=organisation_name, title=title,
            token_hash=_token_hash(token), expires_at=now_utc() + timedelta(days=valid_days), invited_by=actor,
        )
        await queue_mail(
            to=email,
            subject=_("邀请您加入评审专家库"),
            body=_("%(name)s，您好：\n\n绿色技术揭榜挂帅平台邀请您加入评审专家库。请在 %(days)s 天内打开以下链接接受邀请"
                   "（仅可使用一次）：\n%(link)s\n\n如您无意参加，请忽略本邮件。",
                   name=name, days=valid_days, link=f"{base_url}/review/invitations/{token}"),
        )
        await record(actor=actor, action="expert.invite", obj=invitation, after={"email": email, "name": name})
    return invitation, token


async def invitation_for_token(token: str) -> ExpertInvitation | None:
    invitation = await ExpertInvitation.get_or_none(token_hash=_token_hash(token))
    if invitation is None or invitation.accepted_at is not None or invitation.revoked_at is not None \
            or invitation.expires_at < now_utc():
        return None
    return invitation


async def accept_invitation(*, token: str, password: str | None = None) -> User:
    """Create the expert's account (a new user sets a password) or give an existing user the expert role."""
    async with in_transaction():
        invitation = await invitation_for_token(token)
        if invitation is None:
            raise DomainError(_("邀请链接无效或已过期，请联系项目管理办公室重新邀请"))
        claimed = await ExpertInvitation.filter(id=invitation.id, accepted_at__isnull=True).update(
            accepted_at=now_utc())
        if not claimed:
            raise DomainError(_("邀请链接无效或已过期，请联系项目管理办公室重新邀请"))
        user = await User.get_or_none(email=invitation.email)
        if user is None:
            if not password:
                raise DomainError(_("请设置登录密码"), field="password")
            check_password_strength(password)
            user = await User.create(email=invitation.email, name=invitation.name, title=invitation.title,
                                     password_hash=passwords.hash_password(password), is_expert=True)
            await record(actor=user, action="user.create", obj=user,
                         after={"email": user.email, "roles": ["expert"]}, note="expert invitation")
        else:
            user.is_expert = True
            await user.save(update_fields=["is_expert"])
        profile = await ensure_profile(user)
        if invitation.organisation_name and not profile.organisation_name and profile.organisation_id is None:
            profile.organisation_name = invitation.organisation_name
            profile.organisation = await Organisation.get_or_none(name=invitation.organisation_name)
        if invitation.title and not profile.title:
            profile.title = invitation.title
        await profile.save()
        invitation.user = user
        await invitation.save(update_fields=["user_id"])
        await record(actor=user, action="expert.accept", obj=invitation, after={"user_id": user.id})
    return user


async def update_profile(*, user: User, organisation_name: str, credit_code: str, title: str, keywords: str,
                         bio: str, availability: Availability, domain_ids: list[int]) -> list[Assignment]:
    """Save the expert's profile. Returns the assignments revoked because the new facts conflict."""
    profile = await ensure_profile(user)
    # A registered organisation of that name is the employer by identity (its id and credit code count).
    registered = await Organisation.get_or_none(name=organisation_name) if organisation_name else None
    async with in_transaction():
        profile.organisation = registered or (await user.organisation if user.organisation_id else None)
        profile.organisation_name = organisation_name
        profile.credit_code = credit_code
        profile.title = title
        profile.keywords = keywords
        profile.bio = bio
        profile.availability = availability
        await profile.save()
        await profile.domains.clear()
        domains = await Domain.filter(id__in=domain_ids)
        if domains:
            await profile.domains.add(*domains)
        await record(actor=user, action="expert.profile", obj=profile,
                     after={"organisation": organisation_name, "keywords": keywords,
                            "domains": sorted(d.id for d in domains), "availability": availability.value})
    return await recheck_expert(expert=user, actor=user)


async def declare_conflict(*, expert: User, kind: ConflictKind, organisation: Organisation | None, name: str,
                           credit_code: str, email: str, reason: str) -> ConflictDeclaration:
    if kind == ConflictKind.ORGANISATION and organisation is None and not name and not credit_code:
        raise DomainError(_("请选择单位，或填写单位名称"), field="name")
    if kind == ConflictKind.PERSON and not name and not email:
        raise DomainError(_("请填写姓名或电子邮箱"), field="name")
    async with in_transaction():
        declaration = await ConflictDeclaration.create(
            expert=expert, kind=kind, organisation=organisation, name=name, credit_code=credit_code,
            email=email.lower(), reason=reason,
        )
        await record(actor=expert, action="expert.conflict_declare", obj=declaration,
                     after={"kind": kind.value, "organisation_id": organisation.id if organisation else None,
                            "name": name, "email": email}, note=reason)
    await recheck_expert(expert=expert, actor=expert)
    return declaration


async def withdraw_declaration(*, declaration: ConflictDeclaration, actor: User) -> None:
    if declaration.expert_id != actor.id:
        raise NotFound(_("未找到该申报"))
    async with in_transaction():
        await record(actor=actor, action="expert.conflict_withdraw", obj=declaration,
                     before={"kind": declaration.kind.value, "name": declaration.name})
        await declaration.delete()


# -- conflicts rechecks -------------------------------------------------------------------------

async def _revoke_conflicted(assignments: list[Assignment], actor: User | None) -> list[Assignment]:
    """Revoke the given assignments that are conflicted now, telling the organiser and the expert."""
    if not assignments:
        return []
    revoked = []
    # A challenge's panels share its conflicts; a panel outside any challenge has its own (its holder).
    groups: dict[tuple[str, int], list[Assignment]] = {}
    for item in assignments:
        challenge_id = item.panel.challenge_id
        key = ("challenge", challenge_id) if challenge_id is not None else ("panel", item.panel_id)
        groups.setdefault(key, []).append(item)
    for items in groups.values():
        pairs = await conflicts_for_panel(
            items[0].panel,
            expert_ids=sorted({a.expert_id for a in items}),
            bid_ids=sorted({a.bid_id for a in items if a.bid_id is not None}) or None,
        )
        async with in_transaction():
            for item in items:
                reasons = pairs.get((item.expert_id, item.bid_id))
                if not reasons:
                    continue
                reason = _("利益冲突：%(reasons)s", reasons=_join(reasons))
                was_proposed = item.status == AssignmentStatus.PROPOSED
                was_submitted = item.status == AssignmentStatus.SUBMITTED
                await set_assignment_status(assignment=item, status=AssignmentStatus.REVOKED, actor=actor,
                                            reason=reason, action="conflict_revoke")
                revoked.append(item)
                if was_submitted:
                    await _notify_withdrawn(item, reasons)
                panel = item.panel
                if panel.created_by is not None:
                    await notify(
                        user=panel.created_by,
                        subject=lambda: _("评审分配因利益冲突被撤销：%(panel)s", panel=panel.name),
                        body=lambda: _("专家 %(expert)s 与申报 #%(bid)s 存在利益冲突（%(reasons)s），分配已撤销，请补充评审专家。",
                                       expert=item.expert.name, bid=item.bid_id or "—", reasons=_join(reasons)),
                        link=f"/review/manage/panels/{panel.id}/assign",
                    )
                if not was_proposed:
                    await notify(
                        user=item.expert,
                        subject=lambda: _("一项评审任务已撤销"),
                        body=lambda: _("根据利益冲突规则，您在“%(panel)s”中的一项评审任务已撤销，无需继续评审。",
                                       panel=panel.name),
                        link="/review/",
                    )
    return revoked


async def _notify_withdrawn(item: Assignment, reasons: list[str]) -> None:
    """A submitted score no longer counts: the chair (the deputy, for a bid the chair may not see)
    and the organiser who formed the panel are told which score, why, and that the ranking moved."""
    panel = item.panel
    entry = await PanelBid.get(panel_id=panel.id, bid_id=item.bid_id)
    totals = await queries.assignment_totals(panel_id=panel.id, criteria=await criteria_for(panel),
                                             bid_id=item.bid_id, status=AssignmentStatus.REVOKED)
    total = totals.get(item.id)
    roles = await chairing.chairing_of(panel)
    leader = roles.deputy_id if item.bid_id in roles.hidden_from(roles.chair_id) else roles.chair_id
    recipients = {u.id: u for u in [await User.get_or_none(id=leader) if leader else None, panel.created_by] if u}
    for user in recipients.values():
        link = (f"/review/manage/panels/{panel.id}/ranking#withdrawn" if user.id == panel.created_by_id
                else f"/review/panels/{panel.id}#withdrawn")
        await notify(
            user=user,
            subject=lambda: _("已提交的评分被撤回，排名可能变化：%(panel)s", panel=panel.name),
            body=lambda: _("专家 %(expert)s 对%(code)s已提交的评分（加权总分 %(total)s）因利益冲突撤回：%(reasons)s。"
                           "该评分不再计入专家组得分，排名可能已变化；排名页“已撤回的评分”列出每一项撤回。",
                           expert=item.expert.name, code=blind.label(entry.code),
                           total=total if total is not None else "—", reasons=_join(reasons)),
            link=link,
        )


async def recheck_conflicts(*, bid, actor: User | None = None) -> list:
    """Re-run the conflict rule for every active assignment on the challenge of `bid`.

    Called by the bids area after any change of a consortium (lead, partners, members). A change
    to one bid can conflict an expert with every bid of the challenge ("bid on the same
    challenge"), so all of the challenge's active assignments are checked. Conflicted ones are
    revoked (status REVOKED with the reason, audit-logged), their scores kept but no longer
    counted; the organiser who formed the panel is notified, and the expert too (without any
    name of the bid's parties). Returns the revoked assignments.
    """
    assignments = await Assignment.filter(
        panel__challenge_id=bid.challenge_id, status__in=list(ACTIVE_ASSIGNMENT_STATES)
    ).select_related("panel", "panel__created_by", "expert")
    return await _revoke_conflicted(list(assignments), actor)


async def recheck_expert(*, expert: User, actor: User | None = None) -> list:
    """After an expert's own facts change (profile, declarations): revoke his assignments now conflicted."""
    assignments = await Assignment.filter(
        expert=expert, status__in=list(ACTIVE_ASSIGNMENT_STATES)
    ).select_related("panel", "panel__created_by", "expert")
    return await _revoke_conflicted(list(assignments), actor)


# -- panels -------------------------------------------------------------------------------------

async def update_members(*, panel: Panel, member_ids: list[int], chair_id: int | None, actor: User,
                         deputy_id: int | None = None) -> None:
    experts = await User.filter(id__in=member_ids, is_expert=True, is_active=True)
    if not experts or len(experts) != len(set(member_ids)):
        raise DomainError(_("请至少选择一名有效的专家"), field="members")
    if chair_id not in {e.id for e in experts}:
        raise DomainError(_("请从专家组成员中指定组长"), field="chair")
    if deputy_id is not None and deputy_id not in {e.id for e in experts}:
        raise DomainError(_("请从专家组成员中指定副组长"), field="deputy")
    await chairing.check_cover(
        panel=panel, bid_ids=list(await PanelBid.filter(panel=panel).values_list("bid_id", flat=True)),
        chair_id=chair_id, deputy_id=deputy_id, names={e.id: e.name for e in experts})
    keep = {e.id for e in experts}
    busy = await Assignment.filter(panel=panel, status__in=list(LIVE_ASSIGNMENT_STATES)).exclude(
        expert_id__in=list(keep)).values_list("expert_id", flat=True)
    if busy:
        raise DomainError(_("已确认评审任务的专家不能移出专家组，请先撤销其评审任务"), field="members")
    current = {m.expert_id: m for m in await PanelMember.filter(panel=panel)}
    before = {"members": sorted(current), "chair": next((m.expert_id for m in current.values() if m.is_chair), None),
              "deputy": next((m.expert_id for m in current.values() if m.is_deputy), None)}
    async with in_transaction():
        await PanelMember.filter(panel=panel).exclude(expert_id__in=list(keep)).delete()
        await Assignment.filter(panel=panel, status=AssignmentStatus.PROPOSED).exclude(
            expert_id__in=list(keep)).delete()
        for expert in experts:
            member = current.get(expert.id)
            roles = {"is_chair": expert.id == chair_id, "is_deputy": expert.id == deputy_id}
            if member is None:
                await PanelMember.create(panel=panel, expert=expert, **roles)
            elif (member.is_chair, member.is_deputy) != (roles["is_chair"], roles["is_deputy"]):
                member.update_from_dict(roles)
                await member.save(update_fields=["is_chair", "is_deputy"])
        await record(actor=actor, action="panel.members", obj=panel, before=before,
                     after={"members": sorted(keep), "chair": chair_id, "deputy": deputy_id})


async def panel_member_ids(panel: Panel) -> list[int]:
    return list(await PanelMember.filter(panel=panel).values_list("expert_id", flat=True))


async def chair_id_of(panel: Panel) -> int | None:
    ids = await PanelMember.filter(panel_id=panel.id, is_chair=True).values_list("expert_id", flat=True)
    return ids[0] if ids else None


def experts_per_entry(panel: Panel, challenge: Challenge | None, members: int) -> int:
    """k: as the challenge says; a panel outside any challenge has every member review its one entry."""
    return challenge.experts_per_bid if challenge is not None else members


async def _proposal_inputs(panel: Panel):
    challenge = await Challenge.get_or_none(id=panel.challenge_id) if panel.challenge_id else None
    panel_bids = await PanelBid.filter(panel=panel).select_related("bid")
    member_ids = await panel_member_ids(panel)
    profiles = {p.user_id: p for p in await ExpertProfile.filter(user_id__in=member_ids).prefetch_related("domains")}
    challenge_domain = {challenge.domain_id} if challenge and challenge.domain_id else set()
    challenge_text = f"{challenge.title} {challenge.summary}" if challenge else panel.name
    bids = [
        assigning.BidInput(
            id=entry.bid_id,
            domain_ids=frozenset(challenge_domain),
            text=f"{challenge_text} {entry.bid.title} {entry.bid.approach[:2000]}" if entry.bid else challenge_text,
        )
        for entry in panel_bids
    ]
    experts = []
    for expert_id in member_ids:
        profile = profiles.get(expert_id)
        if profile is not None and profile.availability == Availability.UNAVAILABLE:
            continue
        experts.append(assigning.ExpertInput(
            id=expert_id,
            domain_ids=frozenset(d.id for d in profile.domains) if profile else frozenset(),
            keywords=profile.keywords if profile else "",
        ))
    pairs = await conflicts_for_panel(panel, expert_ids=member_ids, bid_ids=[b.id for b in bids])
    existing: dict[int, set[int]] = {}
    for bid_id, expert_id in await Assignment.filter(
        panel=panel, status__in=list(ACTIVE_ASSIGNMENT_STATES)
    ).values_list("bid_id", "expert_id"):
        existing.setdefault(bid_id, set()).add(expert_id)
    return experts_per_entry(panel, challenge, len(member_ids)), bids, experts, pairs, existing


async def propose_assignments(*, panel: Panel, actor: User, fresh: bool = False) -> assigning.Proposal:
    """Fill every bid of the panel up to k experts with PROPOSED assignments (the organiser confirms).

    `fresh` drops the previous unconfirmed proposal first.
    """
    if panel.status == PanelStatus.CONCLUDED:
        raise InvalidTransition(_("专家组已出结论，不能再分配"))
    if fresh:
        await Assignment.filter(panel=panel, status=AssignmentStatus.PROPOSED).delete()
    await panels.sync_panel_bids(panel=panel)
    k, bids, experts, pairs, existing = await _proposal_inputs(panel)
    # A declined or revoked pair is not proposed again.
    excluded = set(pairs) | {
        (expert_id, bid_id) for bid_id, expert_id in await Assignment.filter(
            panel=panel, status__in=[AssignmentStatus.DECLINED, AssignmentStatus.REVOKED]
        ).values_list("bid_id", "expert_id")
    }
    proposal = assigning.propose(bids=bids, experts=experts, k=k,
                                 conflicts=excluded, existing=existing)
    async with in_transaction():
        fresh_rows = [
            Assignment(panel=panel, bid_id=bid_id, expert_id=expert_id, status=AssignmentStatus.PROPOSED)
            for bid_id, ids in proposal.added.items() for expert_id in ids
        ]
        await Assignment.bulk_create(fresh_rows)
        await record(actor=actor, action="panel.propose", obj=panel,
                     after={"proposed": len(fresh_rows), "short": proposal.short, "k": k})
    return proposal


async def add_assignment(*, panel: Panel, bid_id: int, expert_id: int, actor: User) -> Assignment:
    """Assign an expert by hand; a conflicted choice is refused with the reason."""
    if panel.status == PanelStatus.CONCLUDED:
        raise InvalidTransition(_("专家组已出结论，不能再分配"))
    entry = await PanelBid.get_or_none(panel=panel, bid_id=bid_id).select_related("bid")
    if entry is None:
        raise DomainError(_("该申报不在本专家组的评审范围内"), field="bid")
    member = await PanelMember.get_or_none(panel=panel, expert_id=expert_id).select_related("expert")
    if member is None:
        raise DomainError(_("请选择本专家组的成员"), field="expert")
    pairs = await conflicts_for_panel(panel, expert_ids=[expert_id], bid_ids=[bid_id])
    reasons = pairs.get((expert_id, bid_id))
    if reasons:
        raise DomainError(_("不能分配：%(name)s 与申报 %(code)s 存在利益冲突（%(reasons)s）",
                            name=member.expert.name, code=entry.code, reasons=_join(reasons)), field="expert")
    status = AssignmentStatus.ASSIGNED if panel.status == PanelStatus.REVIEWING else AssignmentStatus.PROPOSED
    async with in_transaction():
        # The panel's row serialises hand assignments: the database cannot refuse a second
        # (panel, expert) on a bid-less entry (NULLs are distinct in the unique constraint).
        await Panel.filter(id=panel.id).select_for_update().first()
        existing = await Assignment.get_or_none(panel=panel, bid_id=bid_id, expert_id=expert_id)
        if existing is not None and existing.status in ACTIVE_ASSIGNMENT_STATES:
            raise DomainError(_("该专家已分配到此申报"), field="expert")
        if existing is None:
            try:
                item = await Assignment.create(panel=panel, bid_id=bid_id, expert_id=expert_id,
                                               status=AssignmentStatus.PROPOSED)
            except IntegrityError:
                raise DomainError(_("该专家已分配到此申报"), field="expert") from None
            await record(actor=actor, action="review.add", obj=item,
                         after={"bid_id": bid_id, "expert_id": expert_id, "panel_id": panel.id})
            if status != AssignmentStatus.PROPOSED:
                await set_assignment_status(assignment=item, status=status, actor=actor, action="assign")
        else:
            item = existing
            item.reason = ""
            await set_assignment_status(assignment=item, status=status, actor=actor, action="reassign")
        if status == AssignmentStatus.ASSIGNED:
            await _notify_assigned(panel, member.expert, 1)
    return item


async def remove_assignment(*, assignment: Assignment, actor: User, reason: str = "") -> None:
    """A proposal is dropped, a confirmed task revoked (the expert is told). Submitted reviews stay."""
    if assignment.status == AssignmentStatus.SUBMITTED:
        raise InvalidTransition(_("已提交的评审不能撤销；如需修改，请由组长退回"))
    if assignment.status not in (AssignmentStatus.PROPOSED, AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS):
        raise InvalidTransition(_("该分配已不在进行中"))
    async with in_transaction():
        if assignment.status == AssignmentStatus.PROPOSED:
            await record(actor=actor, action="review.drop_proposal", obj=assignment,
                         before={"bid_id": assignment.bid_id, "expert_id": assignment.expert_id})
            await assignment.delete()
            return
        await set_assignment_status(assignment=assignment, status=AssignmentStatus.REVOKED, actor=actor,
                                    reason=reason or _("管理员撤销"), action="revoke")
        expert = await User.get(id=assignment.expert_id)
        await notify(user=expert, subject=lambda: _("一项评审任务已撤销"),
                     body=lambda: _("项目管理办公室撤销了您的一项评审任务。"), link="/review/")


async def _notify_assigned(panel: Panel, expert: User, count: int) -> None:
    challenge = await Challenge.get_or_none(id=panel.challenge_id) if panel.challenge_id else None
    title = challenge.title if challenge else panel.name

    def body() -> str:
        due = _("，请于 %(due)s 前完成", due=format_datetime(panel.due_at)) if panel.due_at is not None else ""
        if challenge is None:
            return _("您已被分配“%(title)s”的评审任务%(due)s。如存在利益冲突，请在任务页面说明原因并拒绝。",
                     title=title, due=due)
        return _("您已被分配评审榜单“%(title)s”的 %(n)s 份申报%(due)s。如存在利益冲突，请在任务页面说明原因并拒绝。",
                 title=title, n=count, due=due)

    await notify(
        user=expert,
        subject=lambda: _("新的评审任务：%(title)s", title=title),
        body=body,
        link="/review/",
    )


async def confirm_assignments(*, panel: Panel, actor: User) -> int:
    """Turn the proposal into tasks: PROPOSED -> ASSIGNED, each expert told once. Conflicts re-checked."""
    proposed = await Assignment.filter(panel=panel, status=AssignmentStatus.PROPOSED).select_related(
        "panel", "panel__created_by", "expert")
    if not proposed:
        raise InvalidTransition(_("没有待确认的分配"))
    revoked = {a.id for a in await _revoke_conflicted(list(proposed), actor)}
    proposed = [a for a in proposed if a.id not in revoked]
    per_expert: dict[int, list[Assignment]] = {}
    async with in_transaction():
        for item in proposed:
            await set_assignment_status(assignment=item, status=AssignmentStatus.ASSIGNED, actor=actor,
                                        action="assign")
            per_expert.setdefault(item.expert_id, []).append(item)
        if panel.status == PanelStatus.FORMING:
            await set_panel_status(panel=panel, status=PanelStatus.REVIEWING, actor=actor)
        for items in per_expert.values():
            await _notify_assigned(panel, items[0].expert, len(items))
    return len(proposed)


def least_loaded_replacement(*, candidates: list[int], loads: dict[int, int], conflicted: set[int],
                             taken: set[int]) -> int | None:
    free = [e for e in candidates if e not in conflicted and e not in taken]
    if not free:
        return None
    return min(free, key=lambda e: (loads.get(e, 0), e))


async def decline_assignment(*, assignment: Assignment, actor: User, reason: str) -> Assignment | None:
    """The expert declines with a reason; a replacement (the least-loaded unconflicted member) is proposed.

    Returns the proposed replacement, or None when no member can take it (the organiser is told).
    """
    if assignment.expert_id != actor.id:
        raise NotFound(_("未找到该评审任务"))
    if assignment.status not in EDITABLE_ASSIGNMENT_STATES:
        raise InvalidTransition(_("该评审任务已不能拒绝"))
    if not reason.strip():
        raise DomainError(_("请说明拒绝的原因"), field="reason")
    panel = await Panel.get(id=assignment.panel_id).select_related("created_by")
    entry = await PanelBid.get(panel=panel, bid_id=assignment.bid_id)
    member_ids = await panel_member_ids(panel)
    loads = dict(await Assignment.filter(panel=panel, status__in=list(ACTIVE_ASSIGNMENT_STATES)).group_by(
        "expert_id").annotate(n=Count("id")).values_list("expert_id", "n"))
    taken = set(await Assignment.filter(panel=panel, bid_id=assignment.bid_id).values_list("expert_id", flat=True))
    pairs = await conflicts_for_panel(panel, expert_ids=member_ids, bid_ids=[assignment.bid_id])
    conflicted = {expert_id for expert_id, _bid in pairs}
    replacement_id = least_loaded_replacement(candidates=member_ids, loads=loads, conflicted=conflicted,
                                              taken=taken)
    replacement = None
    async with in_transaction():
        await set_assignment_status(assignment=assignment, status=AssignmentStatus.DECLINED, actor=actor,
                                    reason=reason, action="decline")
        if replacement_id is not None:
            replacement = await Assignment.create(panel=panel, bid_id=assignment.bid_id, expert_id=replacement_id,
                                                  status=AssignmentStatus.PROPOSED)
            await record(actor=None, action="review.propose_replacement", obj=replacement,
                         after={"bid_id": assignment.bid_id, "expert_id": replacement_id,
                                "replaces": assignment.id})
        if panel.created_by is not None:

            def body() -> str:
                text = _("专家 %(expert)s 拒绝评审申报 %(code)s，原因：%(reason)s。", expert=actor.name, code=entry.code,
                         reason=reason)
                if replacement_id is not None:
                    return text + _("系统已建议由组内负担最轻且无利益冲突的专家替补，请确认分配。")
                return text + _("专家组内没有可替补的专家，请增加专家组成员。")

            await notify(user=panel.created_by, subject=lambda: _("评审任务被拒绝：%(panel)s", panel=panel.name),
                         body=body, link=f"/review/manage/panels/{panel.id}/assign")
    return replacement


# -- scoring ------------------------------------------------------------------------------------

async def save_scores(*, assignment: Assignment, criteria: list[RubricCriterion],
                      values: dict[int, Decimal | None], comments: dict[int, str], opinion: str,
                      submit: bool, actor: User) -> Assignment:
    """Save a draft or submit. Submitting needs every criterion scored, and locks the scores."""
    if assignment.expert_id != actor.id:
        raise NotFound(_("未找到该评审任务"))
    if assignment.status not in EDITABLE_ASSIGNMENT_STATES:
        raise InvalidTransition(_("评分已提交并锁定；如需修改，请联系专家组组长退回"))
    errors = {}
    for criterion in criteria:
        value = values.get(criterion.id)
        if value is not None and not (0 <= value <= criterion.max_score):
            errors[f"score_{criterion.id}"] = _("分值应在 0 到 %(max)s 之间", max=criterion.max_score)
        elif value is None and submit:
            errors[f"score_{criterion.id}"] = _("提交前请为“%(name)s”打分", name=criterion.name)
    if errors:
        raise DomainError(next(iter(errors.values())), errors=errors)
    async with in_transaction():
        # Two tabs submitting at once: the second waits for the first, then finds the scores locked.
        await _lock_editable(assignment)
        current = {s.criterion_id: s for s in await Score.filter(assignment=assignment)}
        to_create, to_update = [], []
        for criterion in criteria:
            row = current.get(criterion.id)
            value, comment = values.get(criterion.id), comments.get(criterion.id, "")
            if row is None:
                to_create.append(Score(assignment=assignment, criterion=criterion, value=value, comment=comment))
            elif row.value != value or row.comment != comment:
                row.value, row.comment = value, comment
                to_update.append(row)
        if to_create:
            await Score.bulk_create(to_create)
        if to_update:
            await Score.bulk_update(to_update, fields=["value", "comment"])
        assignment.opinion = opinion
        await assignment.save(update_fields=["opinion", "updated_at"])
        if submit:
            await set_assignment_status(assignment=assignment, status=AssignmentStatus.SUBMITTED, actor=actor,
                                        action="submit", scores=await score_values(assignment.id))
            await _notify_if_panel_done(assignment.panel_id)
        elif assignment.status == AssignmentStatus.ASSIGNED:
            await set_assignment_status(assignment=assignment, status=AssignmentStatus.IN_PROGRESS, actor=actor,
                                        action="start")
    return assignment


def score_text(value: Decimal | None) -> str | None:
    """A score as the audit log keeps it: two decimals, or None when not given."""
    return None if value is None else format(Decimal(value).quantize(Decimal("0.01")), "f")


async def score_values(assignment_id: int) -> dict[int, str | None]:
    """criterion id -> score text, as saved for the assignment."""
    return {criterion_id: score_text(value) for criterion_id, value in
            await Score.filter(assignment_id=assignment_id).values_list("criterion_id", "value")}


async def _lock_editable(assignment: Assignment) -> None:
    """Lock the assignment's row (PostgreSQL) and re-read its status inside the transaction."""
    row = await Assignment.filter(id=assignment.id).select_for_update().only("id", "status").first()
    if row is None or row.status not in EDITABLE_ASSIGNMENT_STATES:
        raise InvalidTransition(_("评分已提交并锁定；如需修改，请联系专家组组长退回"))
    assignment.status = row.status


async def _notify_if_panel_done(panel_id: int) -> None:
    outstanding = await Assignment.filter(panel_id=panel_id, status__in=[
        AssignmentStatus.PROPOSED, AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS]).exists()
    if outstanding:
        return
    panel = await Panel.get(id=panel_id).select_related("created_by")
    chair_id = await chair_id_of(panel)
    recipients = [u for u in [panel.created_by, await User.get_or_none(id=chair_id)] if u is not None]
    for user in {u.id: u for u in recipients}.values():
        await notify(user=user, subject=lambda: _("评审已全部提交：%(panel)s", panel=panel.name),
                     body=lambda: _("专家组全部评分已提交，请查看排名并形成专家组意见。"),
                     link=f"/review/panels/{panel.id}")


async def reopen_assignment(*, assignment: Assignment, actor: User, reason: str) -> Assignment:
    """The chair sends a submitted review back to its expert with a reason (audit-logged, expert told).

    For a bid the chair is conflicted with, the deputy chair or the organiser does (`chairing`).
    """
    panel = await Panel.get(id=assignment.panel_id)
    roles = await chairing.chairing_of(panel)
    if not (roles.may_act_on(actor, assignment.bid_id)
            or (actor.is_organiser and roles.may_act_on(actor, assignment.bid_id, organiser=True))):
        raise PermissionDenied(_("只有专家组组长可以退回评分；组长需回避的申报由副组长或项目管理办公室处理"))
    if assignment.status != AssignmentStatus.SUBMITTED:
        raise InvalidTransition(_("只能退回已提交的评分"))
    if panel.status == PanelStatus.CONCLUDED:
        raise InvalidTransition(_("专家组已出结论，不能再退回评分"))
    if not reason.strip():
        raise DomainError(_("请说明退回的原因"), field="reason")
    entry = await PanelBid.get(panel=panel, bid_id=assignment.bid_id)
    async with in_transaction():
        assignment.reopen_count += 1
        assignment.submitted_at = None
        await set_assignment_status(assignment=assignment, status=AssignmentStatus.IN_PROGRESS, actor=actor,
                                    reason=reason, action="reopen", scores=await score_values(assignment.id))
        expert = await User.get(id=assignment.expert_id)
        await notify(user=expert, subject=lambda: _("评分已被组长退回：%(code)s", code=blind.label(entry.code)),
                     body=lambda: _("专家组组长退回了您对%(code)s的评分，原因：%(reason)s。请修改后重新提交。",
                                    code=blind.label(entry.code), reason=reason),
                     link=f"/review/assignments/{assignment.id}")
    return assignment


# -- results ------------------------------------------------------------------------------------

async def criteria_info(challenge_id: int) -> list[aggregation.CriterionInfo]:
    return [
        aggregation.CriterionInfo(id=c.id, name=c.name, weight=c.weight, max_score=c.max_score, position=c.position)
        for c in await RubricCriterion.filter(challenge_id=challenge_id).order_by("position", "id")
    ]


# Panels that may score on a rubric of their own (a catalogue round's technical evaluation).
OWN_RUBRIC_PURPOSES = {PanelPurpose.EVALUATION}


async def rubric_of(panel: Panel) -> list[RubricCriterion]:
    """The criteria the panel scores on: its own when it has one (a technical evaluation formed
    with the round's rubric, a panel outside any challenge), else its challenge's."""
    if panel.challenge_id is None or panel.purpose in OWN_RUBRIC_PURPOSES:
        own = list(await RubricCriterion.filter(panel_id=panel.id).order_by("position", "id"))
        if own or panel.challenge_id is None:
            return own
    return list(await RubricCriterion.filter(challenge_id=panel.challenge_id).order_by("position", "id"))


async def criteria_for(panel: Panel) -> list[aggregation.CriterionInfo]:
    return [
        aggregation.CriterionInfo(id=c.id, name=c.name, weight=c.weight, max_score=c.max_score, position=c.position)
        for c in await rubric_of(panel)
    ]


async def ranking(*, panel: Panel, aggregation_rule=None, criteria: list[aggregation.CriterionInfo] | None = None
                  ) -> list[aggregation.BidRanking]:
    """The panel's ranking computed in SQL (constant number of queries). The rule: the panel's
    (`Panel.aggregation_rule`) when not given."""
    if criteria is None:
        criteria = await criteria_for(panel)
    if aggregation_rule is None:
        challenge = await Challenge.get_or_none(id=panel.challenge_id) if panel.challenge_id else None
        aggregation_rule = panel.aggregation_rule(challenge)
    bids = dict(await Bid.filter(panel_entries__panel_id=panel.id).values_list("id", "submitted_at"))
    if panel.challenge_id is None and await PanelBid.exists(panel_id=panel.id, bid_id=None):
        bids[None] = None  # the one entry of a panel outside any challenge
    return await aggregation.panel_ranking(
        panel_id=panel.id, aggregation=aggregation_rule, criteria=criteria, bids=bids,
        dispersion_threshold=panel.dispersion_threshold,
    )


async def outstanding_count(panel: Panel) -> int:
    return await Assignment.filter(panel=panel, status__in=[
        AssignmentStatus.PROPOSED, AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS]).count()


async def record_opinion(*, panel: Panel, actor: User, text: str, recommended_ids: list[int]) -> ReviewOpinion:
    """The chair records the panel's opinion and the recommended winners (teams to advance for a
    stage; none for a project's mid-term or acceptance review, whose result the organiser records).

    A chair conflicted with a bid of the panel does not: the deputy does, or else the organiser
    (`chairing.Chairing.opinion_by`).
    """
    roles = await chairing.chairing_of(panel)
    if not (roles.may_record_opinion(actor)
            or (actor.is_organiser and roles.may_record_opinion(actor, organiser=True))):
        raise PermissionDenied(_("只有专家组组长可以形成专家组意见；组长需回避时由副组长或项目管理办公室形成"))
    if panel.status == PanelStatus.FORMING:
        raise InvalidTransition(_("评审尚未开始"))
    if await StageResult.filter(panel=panel).exists():
        raise InvalidTransition(_("阶段评审结果已公布，不能再修改意见"))
    if await outstanding_count(panel):
        raise InvalidTransition(_("仍有专家未提交评分，全部提交后方可形成专家组意见"))
    challenge = await Challenge.get_or_none(id=panel.challenge_id) if panel.challenge_id else None
    stage = await Stage.get_or_none(id=panel.stage_id) if panel.stage_id else None
    errors = {}
    if not text.strip():
        errors["text"] = _("请填写专家组意见")
    limit = panels.recommend_limit(challenge, stage, panel.purpose)
    codes = set(await PanelBid.filter(panel=panel).values_list("bid_id", flat=True))
    if any(bid_id not in codes for bid_id in recommended_ids):
        errors["recommended"] = _("推荐的申报不在本专家组的评审范围内")
    elif limit == 0 and recommended_ids:
        errors["recommended"] = _("本专家组只形成意见，不推荐名单")
    elif limit and not recommended_ids:
        errors["recommended"] = _("请选择推荐的申报")
    elif len(set(recommended_ids)) > limit:
        errors["recommended"] = _("最多推荐 %(n)s 个", n=limit)
    if errors:
        raise DomainError(next(iter(errors.values())), errors=errors)
    async with in_transaction():
        opinion = await ReviewOpinion.get_or_none(panel=panel)
        before = None
        if opinion is None:
            opinion = await ReviewOpinion.create(panel=panel, text=text, recorded_by=actor, recorded_at=now_utc())
        else:
            before = {"text": opinion.text}
            opinion.text, opinion.recorded_by, opinion.recorded_at = text, actor, now_utc()
            await opinion.save()
            await opinion.recommended.clear()
        await opinion.recommended.add(*await Bid.filter(id__in=recommended_ids))
        await record(actor=actor, action="panel.opinion", obj=panel, before=before,
                     after={"text": text, "recommended": sorted(set(recommended_ids))})
        if panel.status != PanelStatus.CONCLUDED:
            await set_panel_status(panel=panel, status=PanelStatus.CONCLUDED, actor=actor)
        creator = await User.get_or_none(id=panel.created_by_id) if panel.created_by_id else None
        if creator is not None:
            await notify(user=creator, subject=lambda: _("专家组意见已形成：%(panel)s", panel=panel.name),
                         body=lambda: _("组长已记录专家组意见。"), link=f"/review/manage/panels/{panel.id}/ranking")
    return opinion


# -- progress and reminders ---------------------------------------------------------------------

async def panel_progress(panel_ids: list[int]) -> dict[int, dict[int, dict[str, int]]]:
    """panel id -> expert id -> status -> count, in one GROUP BY query."""
    rows = await Assignment.filter(panel_id__in=panel_ids).group_by("panel_id", "expert_id", "status").annotate(
        n=Count("id")).values_list("panel_id", "expert_id", "status", "n")
    result: dict[int, dict[int, dict[str, int]]] = {}
    for panel_id, expert_id, status, n in rows:
        result.setdefault(panel_id, {}).setdefault(expert_id, {})[str(status)] = n
    return result


def is_late(panel: Panel, now=None) -> bool:
    now = now or now_utc()
    return panel.due_at is not None and panel.due_at - timedelta(hours=REMIND_BEFORE_DUE_HOURS) <= now


async def send_reminders(*, actor: User | None, panel: Panel | None = None, only_late: bool = True) -> int:
    """Remind experts of their unfinished tasks (by mail and inbox). Returns the number of experts reminded.

    `only_late`: panels due within 48 hours or overdue, and experts not reminded in the last 24 hours
    (what `challenge remind` sends). The organiser's button reminds every unfinished expert of a panel.
    """
    now = now_utc()
    query = Assignment.filter(status__in=list(EDITABLE_ASSIGNMENT_STATES), panel__status=PanelStatus.REVIEWING)
    if panel is not None:
        query = query.filter(panel_id=panel.id)
    items = await query.select_related("panel", "panel__challenge", "expert")
    per_expert: dict[tuple[int, int], list[Assignment]] = {}
    for item in items:
        if only_late and not is_late(item.panel, now):
            continue
        if only_late and item.reminded_at and item.reminded_at > now - timedelta(hours=REMIND_AFTER_HOURS):
            continue
        per_expert.setdefault((item.panel_id, item.expert_id), []).append(item)
    async with in_transaction():
        for group in per_expert.values():
            first = group[0]

            def body() -> str:
                due = ""
                if first.panel.due_at is not None:
                    due = _("截止时间：%(due)s。", due=format_datetime(first.panel.due_at))
                return _("您还有 %(n)s 份申报尚未提交评分。%(due)s", n=len(group), due=due)

            await notify(
                user=first.expert,
                subject=lambda: _("评审提醒：%(title)s", title=first.panel.challenge.title if first.panel.challenge
                                  else first.panel.name),
                body=body,
                link="/review/",
            )
            await Assignment.filter(id__in=[a.id for a in group]).update(reminded_at=now)
        if per_expert:
            await record(actor=actor, action="review.remind", object_type="panel",
                         object_id=panel.id if panel else "all",
                         after={"experts": sorted({expert for _p, expert in per_expert})})
    return len(per_expert)
