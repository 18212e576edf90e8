"""Bids: the bidder's page and form, attachments, receipts, and the organisers' lists."""

from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from tortoise.functions import Count

from challenge.accounts.models import Organisation, OrgStatus, OrgType, Role
from challenge.bids import forms, names, permissions, services
from challenge.bids.models import (
    ATTACHMENT_LIMITS,
    EDITABLE_BID_STATES,
    FORMAL_PASS_FROM,
    MANAGED_BID_STATES,
    AttachmentCategory,
    Bid,
    BidStatus,
    BidVersion,
)
from challenge.bids.zipstream import ZipEntry, stream_zip
from challenge.catalog import regions
from challenge.challenges.models import PUBLIC_CHALLENGE_STATES, RESULT_CHALLENGE_STATES, AssessmentTarget, Challenge
from challenge.errors import DomainError
from challenge.files import documents, kept
from challenge.files.kept import KeptFileGone
from challenge.files.models import Blob
from challenge.files.services import content_disposition, download_response
from challenge.files.uploads import receive_upload
from challenge.web.auth import require_role
from challenge.web.exports import export_response
from challenge.web.flash import flash
from challenge.web.forms import Form, parse_id, read_form
from challenge.web.http import int_param, redirect
from challenge.web.i18n import _
from challenge.web.limits import UPLOAD, limited
from challenge.web.once import AlreadyCreated, create_once
from challenge.web.pagination import page_number, paginate
from challenge.web.templating import render
from challenge.web.timefmt import format_datetime, now_utc

CATEGORY_BY_FIELD = {f"file-{c.value}": c.value for c in AttachmentCategory}


# -- loading and permission -----------------------------------------------------------------------
async def _bid_for_viewer(request: Request):
    """The bid if the user may see it: the lead organisation's bidders and organisers.
    Another organisation's bid and a forged id look the same: 404."""
    user = require_role(request, Role.BIDDER, Role.ORGANISER)
    bid = await Bid.get_or_none(id=request.path_params["bid_id"]).select_related("challenge", "lead_org")
    if bid is None or not permissions.can_view_bid(user, bid):
        raise HTTPException(404)
    return user, bid


async def _bid_for_bidder(request: Request):
    user = require_role(request, Role.BIDDER)
    bid = await Bid.get_or_none(id=request.path_params["bid_id"]).select_related("challenge", "lead_org")
    if bid is None or not permissions.is_own_bid(user, bid):
        raise HTTPException(404)
    if not permissions.can_bid(user):
        raise HTTPException(403, _("您所在单位尚未通过审核，暂不能申报"))
    return user, bid


def _uploads(files) -> list[services.NewFile]:
    return [(CATEGORY_BY_FIELD.get(upload.field, AttachmentCategory.OTHER.value), upload) for upload in files]


# -- the bidder's page ----------------------------------------------------------------------------
async def my_bids(request: Request):
    user = require_role(request, Role.BIDDER, Role.ORGANISER)
    if not user.is_bidder:
        return redirect("/bids/manage")
    bids = await Bid.filter(lead_org_id=user.organisation_id).select_related("challenge").order_by("-id") \
        if user.organisation_id else []
    ids = [bid.id for bid in bids]
    open_challenges = await services.open_challenges_for(user.organisation_id) if permissions.can_bid(user) else []
    return render(request, "bids/mine.html", {
        "bids": bids,
        "versions": await services.versions_by_bid(ids),
        "messages": await services.messages_by_bid(ids),
        "open_challenges": open_challenges,
        "can_bid": permissions.can_bid(user),
        "organisation": user.organisation,
        "can_edit": lambda bid: permissions.can_edit_bid(user, bid),
    })


# -- the bid form ---------------------------------------------------------------------------------
async def _blind_warnings(request: Request, challenge: Challenge, bid: Bid | None) -> list[str]:
    """On a blind challenge, where the saved bid names its team (text fields and PDFs' text)."""
    if bid is None or not challenge.blind_review:
        return []
    return await names.blind_warnings(await services.working_copy(bid, challenge), request.app.state.storage)


async def _form_context(*, user, challenge: Challenge, bid: Bid | None, form: Form, blanks: dict,
                        totals, notices: list[str] = (), action_url: str = "", request: Request) -> dict:
    targets = await AssessmentTarget.filter(challenge_id=challenge.id).order_by("position", "id")
    organisations = await Organisation.filter(status=OrgStatus.APPROVED).exclude(
        id=user.organisation_id).order_by("name").values_list("id", "name")
    attachments = await services.bid_attachments(bid) if bid is not None else []
    by_category = {c.value: [a for a in attachments if a.category == c.value] for c in AttachmentCategory}
    lead = user.organisation
    return {
        "bid": bid,
        "challenge": challenge,
        "lead": lead,
        "lead_region": regions.name(lead.region_code),
        "targets": targets,
        "form": form,
        "blanks": blanks,
        "counts": forms.row_counts(form, blanks),
        "organisations": list(organisations),
        "org_types": OrgType.choices(),
        "regions": regions.choices(),
        "categories": list(AttachmentCategory),
        "limits": {c.value: n for c, n in ATTACHMENT_LIMITS.items()},
        "attachments": by_category,
        "kept_files": [],
        "category_labels": {f"file-{c.value}": c.label for c in AttachmentCategory},
        "totals": totals,
        "allowed_types": [OrgType(t).label for t in challenge.allowed_org_types or [] if t in OrgType._value2member_map_],
        "allowed_regions": [regions.name(r) for r in challenge.allowed_regions or []],
        "notices": list(notices),
        "action_url": action_url or (f"/bids/{bid.id}/edit" if bid else f"/bids/new?challenge_id={challenge.id}"),
        "window_open": services.window_open(challenge),
        "blind_warnings": await _blind_warnings(request, challenge, bid),
        "blind_kinds": "、".join(sorted(k.upper() for k in documents.CLEANABLE_KINDS)),
    }


async def _stored_form(bid: Bid) -> Form:
    copy = await services.working_copy(bid)
    return Form(forms.form_data(bid=bid, commitments=list(copy.commitments.values()), partners=copy.partners,
                                members=copy.members, milestones=copy.milestones, budget=copy.budget))


async def new_bid(request: Request):
    user = require_role(request, Role.BIDDER)
    challenge_id = int_param(request, "challenge_id")
    challenge = await Challenge.get_or_none(id=challenge_id, status__in=list(PUBLIC_CHALLENGE_STATES)) \
        if challenge_id else None
    if challenge is None:
        raise HTTPException(404)
    if not permissions.can_bid(user):
        raise HTTPException(403, _("您所在单位尚未通过审核，暂不能申报"))
    existing = await Bid.get_or_none(challenge_id=challenge.id, lead_org_id=user.organisation_id)
    if existing is not None:
        # One bid per lead organisation and challenge: a second start goes to the first bid.
        flash(request, _("本单位已有该榜单的申报，请在此继续。"), "info")
        return redirect(f"/bids/{existing.id}/edit")
    if request.method == "GET":
        if not services.window_open(challenge):
            raise HTTPException(409, _("该榜单当前不在申报期内（申报截止时间：%(when)s）。",
                                       when=format_datetime(challenge.closes_at)))
        blanks = forms.blank_rows(request.query_params)
        form = Form()
        return render(request, "bids/edit.html", await _form_context(
            request=request, user=user, challenge=challenge, bid=None, form=form, blanks=blanks,
            totals=services.budget_totals([])))
    return await _save_posted(request, user, challenge, None)


def _settings(request: Request):
    return request.app.state.settings


async def edit_bid(request: Request):
    user, bid = await _bid_for_bidder(request)
    if request.method == "GET":
        form = await _stored_form(bid)
        copy_totals = services.budget_totals(await bid.budget_items.all())
        notices = []
        if not permissions.can_edit_bid(user, bid):
            notices.append(_("该申报当前不能修改（状态：%(status)s，或申报已截止）。", status=bid.status.label))
        return render(request, "bids/edit.html", await _form_context(
            request=request, user=user, challenge=bid.challenge, bid=bid, form=form,
            blanks=forms.blank_rows(request.query_params),
            totals=copy_totals, notices=notices))
    return await _save_posted(request, user, bid.challenge, bid)


async def _save_posted(request: Request, user, challenge: Challenge, bid: Bid | None):
    """Parse the posted bid form (streaming its files), then save, submit, or add a row.

    Files of a post that is refused are kept (challenge.files.kept): listed on the re-rendered
    form and attached when the corrected form is posted, never uploaded or attached twice."""
    settings = _settings(request)
    storage = request.app.state.storage
    parsed = await receive_upload(request, storage, max_bytes=settings.max_upload_bytes,
                                  allowed=settings.allowed_upload_types, blind=challenge.blind_review)
    form = Form(parsed.form)
    target_ids = list(await AssessmentTarget.filter(challenge_id=challenge.id).values_list("id", flat=True))
    content = forms.parse_bid(form, target_ids)
    form.add_errors(parsed.errors)
    action = form.get("intent", "save")
    action = action if action in forms.ACTIONS else "save"
    blanks = forms.blank_rows(form.data)
    brought = await kept.kept_uploads(form.getlist(kept.FIELD), user_id=user.id, secret=settings.secret_key)
    fresh = await kept.fresh_only(brought, parsed.files)
    uploads = _uploads([upload for _token, upload in brought] + fresh)

    async def again(status: int, notices: list[str], *, keep: bool = True, refused_by_service: bool = False):
        # `bid` as it is now: a refused submission of a new bid has created the bid (its draft kept).
        kept_files = (kept.as_kept(brought) + await kept.keep(
            storage, fresh, user_id=user.id, secret=settings.secret_key,
            stored_only=refused_by_service)) if keep else []
        if len(kept_files) < len(brought) + len(fresh) and keep:
            notices = [*notices, _("本次选择的文件未保存，请修改后重新选择。")]
        if kept_files:
            notices = [*notices, _("您选择的文件已上传并保留在下方“已保留的文件”中，改正后提交即可，无须重新选择。")]
        return render(request, "bids/edit.html", {**await _form_context(
            request=request, user=user, challenge=challenge, bid=bid, form=form, blanks=blanks,
            totals=services.budget_totals(content.budget), notices=notices), "kept_files": kept_files},
            status_code=status)

    if not form.is_valid:
        return await again(400, [])
    try:
        if bid is None:
            bid, _created = await create_once(
                form, user=user, create=lambda: services.start_bid(challenge=challenge, actor=user),
                location=lambda started: f"/bids/{started[0].id}/edit")
        if action == "submit":
            version = await services.submit_bid(bid=bid, actor=user, content=content, uploads=uploads,
                                                storage=storage)
        else:
            await services.save_draft(bid=bid, actor=user, content=content, uploads=uploads, storage=storage)
    except services.SubmissionIncomplete as refusal:
        form.add_errors(refusal.errors)
        if refusal.draft_saved:  # the files are attached to the draft now
            return await again(400, [_("内容已保存为草稿，但尚未提交：请修改以下问题后再提交。")], keep=False)
        return await again(400, [], refused_by_service=True)
    except AlreadyCreated:
        await parsed.discard()  # this post's files: the first post's bid is where it goes
        raise
    except services.WindowClosed as refusal:
        form.error("window", refusal.message)
        return await again(409, [_("您填写的内容仍保留在下面的表单中，但未保存、未提交。")], refused_by_service=True)
    except KeptFileGone as gone:
        await parsed.discard()
        form.error("form", gone.message)
        return await again(409, [], keep=False)
    except DomainError as error:
        form.add_errors(error.errors or {"form": error.message})
        return await again(400 if error.errors else 409, [], refused_by_service=True)
    if action == "submit":
        flash(request, _("申报已提交：第 %(v)s 版，回执已生成。截止前仍可修改后重新提交或撤回。", v=version.version))
        return redirect(f"/bids/{bid.id}/receipt/{version.version}")
    if action.startswith("add:"):
        kind = action.partition(":")[2]
        blanks[kind] = min(blanks[kind] + 1, forms.MAX_BLANK_ROWS)
        query = "&".join(f"blank-{k}={n}" for k, n in blanks.items())
        return redirect(f"/bids/{bid.id}/edit?{query}#{kind}s")
    flash(request, _("草稿已保存。") + (_("提交后才算正式申报。") if bid.current_version == 0 else
                                       _("修改尚未提交：请点击“提交申报”生成新版本。")))
    return redirect(f"/bids/{bid.id}/edit")


# -- the bid page, actions ------------------------------------------------------------------------
async def bid_detail(request: Request):
    user, bid = await _bid_for_viewer(request)
    versions = (await services.versions_by_bid([bid.id]))[bid.id]
    latest = await BidVersion.get_or_none(bid_id=bid.id, version=bid.current_version) if bid.current_version else None
    own = permissions.is_own_bid(user, bid)
    # The bidder works on the working copy, everyone else sees (and a settled bid shows) what was submitted.
    show_draft = own and (latest is None or (bid.has_unsubmitted_changes and bid.status in EDITABLE_BID_STATES))
    if show_draft:
        copy = await services.working_copy(bid, bid.challenge)
        content = services.snapshot(copy)
        totals = copy.totals
        problems = services.submission_problems(copy) if permissions.can_submit_bid(user, bid) else {}
    else:
        content = services.version_content(latest)["content"] if latest else None
        totals = None
        problems = {}
    attachments = await services.bid_attachments(bid) if own else []
    warnings = await _blind_warnings(request, bid.challenge, bid) \
        if show_draft and permissions.can_submit_bid(user, bid) else []
    return render(request, "bids/detail.html", {
        "blind_warnings": warnings,
        "blind_kinds": "、".join(sorted(k.upper() for k in documents.CLEANABLE_KINDS)),
        "bid": bid,
        "challenge": bid.challenge,
        "own": own,
        "show_draft": show_draft,
        "content": content,
        "totals": totals,
        "problems": problems,
        "versions": versions,
        "latest": latest,
        "messages": (await services.messages_by_bid([bid.id]))[bid.id],
        "attachments": attachments,
        "categories": list(AttachmentCategory),
        "limits": {c.value: n for c, n in ATTACHMENT_LIMITS.items()},
        "can_edit": permissions.can_edit_bid(user, bid),
        "can_submit": permissions.can_submit_bid(user, bid),
        "can_withdraw": permissions.can_withdraw_bid(user, bid),
        "can_check": permissions.can_check_bid(user, bid),
        "window_open": services.window_open(bid.challenge),
        "region_name": regions.name,
        "type_label": _type_label,
        "category_label": _category_label,
        "category_choices": AttachmentCategory.choices(),
        "form": Form(),
        "result_states": RESULT_CHALLENGE_STATES,
    })


def _type_label(value: str) -> str:
    return OrgType(value).label if value in OrgType._value2member_map_ else value


def _category_label(value: str) -> str:
    return AttachmentCategory(value).label if value in AttachmentCategory._value2member_map_ else value


async def submit_current(request: Request):
    """Submit the working copy as it is (after a withdrawal, or a draft saved earlier)."""
    user, bid = await _bid_for_bidder(request)
    await read_form(request)
    try:
        version = await services.submit_bid(bid=bid, actor=user)
    except services.SubmissionIncomplete as refusal:
        form = await _stored_form(bid)
        form.add_errors(refusal.errors)
        return render(request, "bids/edit.html", await _form_context(
            request=request, user=user, challenge=bid.challenge, bid=bid, form=form, blanks=forms.blank_rows({}),
            totals=services.budget_totals(await bid.budget_items.all()),
            notices=[_("申报尚不能提交：请修改以下问题。")]), status_code=400)
    except DomainError as error:
        flash(request, error.message, "error")
        return redirect(f"/bids/{bid.id}")
    flash(request, _("申报已提交：第 %(v)s 版，回执已生成。", v=version.version))
    return redirect(f"/bids/{bid.id}/receipt/{version.version}")


async def withdraw(request: Request):
    user, bid = await _bid_for_bidder(request)
    form = Form(await read_form(request))
    reason = form.text("reason", max_length=1000)
    try:
        await services.withdraw_bid(bid=bid, actor=user, reason=reason)
    except DomainError as error:
        flash(request, error.message, "error")
        return redirect(f"/bids/{bid.id}")
    flash(request, _("申报已撤回。截止前可修改后重新提交。"))
    return redirect(f"/bids/{bid.id}")


async def upload_attachments(request: Request):
    """Add files to the working copy (one category at a time), without the rest of the form."""
    user, bid = await _bid_for_bidder(request)
    settings = _settings(request)
    storage = request.app.state.storage
    parsed = await receive_upload(request, storage, max_bytes=settings.max_upload_bytes,
                                  allowed=settings.allowed_upload_types, blind=bid.challenge.blind_review)
    form = Form(parsed.form)
    category = form.choice("category", [c.value for c in AttachmentCategory])
    form.add_errors(parsed.errors)
    if not form.is_valid:
        await parsed.discard()
        flash(request, "；".join(form.errors.values()), "error")
        return redirect(f"/bids/{bid.id}")
    try:
        await services.add_attachments(bid=bid, actor=user, uploads=[(category, f) for f in parsed.files],
                                       storage=storage)
    except DomainError as error:
        await parsed.discard()
        flash(request, error.message, "error")
        return redirect(f"/bids/{bid.id}")
    flash(request, _("已上传 %(n)s 个文件。", n=len(parsed.files)))
    return redirect(f"/bids/{bid.id}")


async def formal_check(request: Request):
    user = require_role(request, Role.ORGANISER)
    bid = await Bid.get_or_none(id=request.path_params["bid_id"])
    if bid is None:
        raise HTTPException(404)
    form = Form(await read_form(request))
    decision = form.choice("decision", ["pass", "fail"])
    reason = form.text("reason", max_length=2000)
    if form.is_valid:
        try:
            await services.formal_check(bid=bid, actor=user, passed=decision == "pass", reason=reason)
        except DomainError as error:
            flash(request, error.message, "error")
        else:
            flash(request, _("形式审查结果已记录，并已通知申报单位。"))
    else:
        flash(request, "；".join(form.errors.values()), "error")
    return redirect(f"/bids/{bid.id}")


# -- receipts and files ---------------------------------------------------------------------------
async def _version(request: Request, bid: Bid) -> BidVersion:
    version = await BidVersion.get_or_none(bid_id=bid.id, version=request.path_params["version"]).select_related(
        "submitted_by")
    if version is None:
        raise HTTPException(404)
    return version


async def receipt(request: Request):
    user, bid = await _bid_for_viewer(request)
    version = await _version(request, bid)
    document = services.version_content(version)
    return render(request, "bids/receipt.html", {
        "bid": bid,
        "version": version,
        "content": document["content"],
        "verified": services.verify_version(version),
        "region_name": regions.name,
        "type_label": _type_label,
        "category_label": _category_label,
        "totals": None,
        "own": permissions.is_own_bid(user, bid),
    })


async def receipt_document(request: Request):
    """The exact canonical JSON that was hashed, so anyone can recompute the receipt's SHA-256."""
    _user, bid = await _bid_for_viewer(request)
    version = await _version(request, bid)
    return Response(version.document.encode("utf-8"), media_type="application/json; charset=utf-8", headers={
        "Content-Disposition": content_disposition(f"{bid.number}-v{version.version}.json"),
        "Cache-Control": "private, no-store",
    })


async def download_attachment(request: Request):
    user, bid = await _bid_for_viewer(request)
    if not permissions.can_download_attachments(user, bid):
        raise HTTPException(404)
    attachments = {a.id: a for a in await services.bid_attachments(bid)}
    attachment = attachments.get(request.path_params["attachment_id"])
    if attachment is None:
        raise HTTPException(404)
    return download_response(request.app.state.storage, attachment.blob, attachment.filename)


async def download_version_file(request: Request):
    """A file as it was submitted in a version (it may since have been removed from the draft)."""
    user, bid = await _bid_for_viewer(request)
    if not permissions.can_download_attachments(user, bid):
        raise HTTPException(404)
    version = await _version(request, bid)
    wanted = request.path_params["blob_id"]
    item = next((a for a in services.version_content(version)["content"]["attachments"] if a["blob_id"] == wanted),
                None)
    blob = await Blob.get_or_none(id=wanted) if item else None
    if blob is None:
        raise HTTPException(404)
    return download_response(request.app.state.storage, blob, item["filename"])


# -- organisers -----------------------------------------------------------------------------------
async def _managed_challenge(request: Request):
    user = require_role(request, Role.ORGANISER)
    challenge_id = int_param(request, "challenge_id")
    challenge = await Challenge.get_or_none(id=challenge_id) if challenge_id else None
    if challenge_id and challenge is None:
        raise HTTPException(404)
    return user, challenge


# A challenge can have a thousand bids: the organiser pages through them.
MANAGE_PER_PAGE = 50


async def manage(request: Request):
    _user, challenge = await _managed_challenge(request)
    if challenge is None:
        challenges = await Challenge.filter(status__in=list(PUBLIC_CHALLENGE_STATES)).order_by("-id")
        rows = await Bid.filter(status__in=[s.value for s in MANAGED_BID_STATES]).annotate(
            n=Count("id")).group_by("challenge_id").values("challenge_id", "n")
        counts = {row["challenge_id"]: row["n"] for row in rows}
        return render(request, "bids/manage_index.html", {"challenges": challenges, "counts": counts})
    return await _manage_page(request, challenge)


async def _manage_page(request: Request, challenge: Challenge, form: Form | None = None, status_code: int = 200):
    filters = forms.parse_filters(request.query_params)
    page = await paginate(services.managed_bids(challenge, filters), page_number(request.query_params.get("page")),
                          per_page=MANAGE_PER_PAGE)
    query = urlencode({k: v for k, v in (("challenge_id", challenge.id), ("status", filters.status),
                                         ("q", filters.q)) if v})
    return render(request, "bids/manage.html", {
        "challenge": challenge,
        "page": page,
        "filters": filters,
        "statuses": [s for s in BidStatus if s in MANAGED_BID_STATES],
        "counts": await services.status_counts(challenge),
        "query": query,
        "window_open": services.window_open(challenge),
        "checkable": FORMAL_PASS_FROM,
        "bulk_form": form or Form(),
        "bulk_selected": set(form.getlist("bid_ids")) if form else set(),
        "bulk_decisions": [("pass", _("通过")), ("fail", _("不通过"))],
    }, status_code=status_code)


async def formal_check_bulk(request: Request):
    """The formal check of the bids ticked on a challenge's bid list, with one result and reason;
    those the rules refuse are named, the others are checked. A replayed post checks nothing again."""
    user = require_role(request, Role.ORGANISER)
    challenge = await Challenge.get_or_none(id=request.path_params["challenge_id"])
    if challenge is None:
        raise HTTPException(404)
    form = Form(await read_form(request))
    ids = list(dict.fromkeys(i for i in (_positive_int(v) for v in form.getlist("bid_ids")) if i))[:MAX_BULK]
    decision = form.choice("decision", ["pass", "fail"])
    reason = form.text("reason", max_length=2000)
    if not ids:
        form.error("bid_ids", _("请至少勾选一项申报"))
    if decision == "fail" and not reason:
        form.error("reason", _("不通过时请填写原因，申报方将看到这段说明"))
    back = f"/bids/manage?challenge_id={challenge.id}"
    if not form.is_valid:
        return await _manage_page(request, challenge, form, status_code=400)
    # Only bids of this challenge: an id of another challenge's bid is reported as not found.
    bids = list(await Bid.filter(id__in=ids, challenge_id=challenge.id).order_by("id"))
    missing = len(ids) - len(bids)
    try:
        outcome = await create_once(form, user=user, location=lambda _outcome: back, create=lambda: (
            services.formal_check_bids(bids=bids, actor=user, passed=decision == "pass", reason=reason)))
    except AlreadyCreated:
        flash(request, _("这批申报已经处理过，未重复处理。"), "info")
        return redirect(back)
    if outcome.done:
        flash(request, _("已记录 %(n)s 项申报的形式审查结果，并已通知申报单位。", n=len(outcome.done)))
    refused = [_("%(number)s《%(title)s》：%(reason)s", number=bid.number, title=bid.title, reason=why)
               for bid, why in outcome.refused]
    if missing:
        refused.append(_("%(n)s 项申报不属于该榜单或不存在", n=missing))
    if refused:
        flash(request, _("以下申报未处理：") + "；".join(refused), "error")
    return redirect(back)


MAX_BULK = 200


def _positive_int(raw: str) -> int | None:
    return parse_id(raw)


async def manage_challenge(request: Request):
    require_role(request, Role.ORGANISER)
    return redirect(f"/bids/manage?challenge_id={request.path_params['challenge_id']}")


async def manage_export(request: Request):
    _user, challenge = await _managed_challenge(request)
    if challenge is None:
        raise HTTPException(404)
    filters = forms.parse_filters(request.query_params)
    fmt = "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
    stamp = now_utc().strftime("%Y%m%d")
    return await export_response(fmt, f"bids-challenge-{challenge.id}-{stamp}", services.export_header(),
                                 services.export_rows(services.managed_bids(challenge, filters)))


async def manage_zip(request: Request):
    """Every received bid's submitted attachments, as one ZIP streamed from storage."""
    _user, challenge = await _managed_challenge(request)
    if challenge is None:
        raise HTTPException(404)
    files = await services.challenge_zip_files(challenge)
    storage = request.app.state.storage

    async def entries():
        for item in files:
            yield ZipEntry(name=item.name, size=item.blob.size, modified=item.modified,
                           chunks=storage.read(item.blob.storage_key))

    return StreamingResponse(stream_zip(entries()), media_type="application/zip", headers={
        "Content-Disposition": content_disposition(f"bids-challenge-{challenge.id}-attachments.zip"),
        "Cache-Control": "private, no-store",
    })


routes = [
    Route("/", my_bids, name="mine"),
    limited(Route("/new", new_bid, methods=["GET", "POST"], name="new"), UPLOAD),
    Route("/manage", manage, name="manage"),
    Route("/manage/export", manage_export, name="export"),
    Route("/manage/attachments.zip", manage_zip, name="zip"),
    Route("/challenge/{challenge_id:int}", manage_challenge, name="challenge"),
    Route("/challenge/{challenge_id:int}/formal-check", formal_check_bulk, methods=["POST"], name="formal_check_bulk"),
    Route("/{bid_id:int}", bid_detail, name="detail"),
    limited(Route("/{bid_id:int}/edit", edit_bid, methods=["GET", "POST"], name="edit"), UPLOAD),
    Route("/{bid_id:int}/submit", submit_current, methods=["POST"], name="submit"),
    Route("/{bid_id:int}/withdraw", withdraw, methods=["POST"], name="withdraw"),
    limited(Route("/{bid_id:int}/attachments", upload_attachments, methods=["POST"], name="upload"), UPLOAD),
    Route("/{bid_id:int}/attachments/{attachment_id:int}", download_attachment, name="attachment"),
    Route("/{bid_id:int}/formal-check", formal_check, methods=["POST"], name="formal_check"),
    Route("/{bid_id:int}/receipt/{version:int}", receipt, name="receipt"),
    Route("/{bid_id:int}/receipt/{version:int}.json", receipt_document, name="receipt_document"),
    Route("/{bid_id:int}/versions/{version:int}/files/{blob_id:int}", download_version_file, name="version_file"),
]
