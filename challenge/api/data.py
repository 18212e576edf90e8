"""The public data behind the API: only public objects, each page in a fixed number of queries,
built through `schemas.public()` so that no field outside the published schema goes out."""

from datetime import datetime
from decimal import Decimal

from challenge.api.schemas import public
from challenge.challenges import documents
from challenge.challenges.models import (
    PUBLIC_CHALLENGE_STATES,
    Amendment,
    AssessmentTarget,
    Challenge,
    Question,
    Stage,
)
from challenge.results.models import Notice, NoticeKind, NoticeStatus
from challenge.results.queries import notice_views
from challenge.results.services import notice_link


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _wan(value: Decimal | None) -> str:
    return format((value or Decimal("0")).quantize(Decimal("0.01")), "f")


def challenge_row(c: Challenge, now: datetime) -> dict:
    """A listed challenge (domain and issuers prefetched)."""
    shown = c.shown_status(now)
    return public("Challenge", {
        "id": c.id, "number": c.public_number, "title": c.title, "summary": c.summary,
        "mechanism": c.mechanism.value, "status": shown.value, "status_label": shown.label,
        "domain": c.domain.label if c.domain else None,
        "issuers": [public("Issuer", {"name": o.name, "region_code": o.region_code})
                    for o in sorted(c.issuers, key=lambda o: o.name)],
        "funding_wan": _wan(c.funding_wan), "delivery_months": c.delivery_months,
        "opens_at": _time(c.opens_at), "closes_at": _time(c.closes_at), "published_at": _time(c.published_at),
        "version": c.version, "contact_name": c.contact_name, "contact_phone": c.contact_phone,
        "url": f"/challenges/{c.id}",
    })


async def public_challenge(challenge_id: int) -> Challenge | None:
    return await Challenge.get_or_none(id=challenge_id, status__in=list(PUBLIC_CHALLENGE_STATES)).prefetch_related(
        "domain", "issuers")


async def challenge_detail(c: Challenge, now: datetime) -> dict:
    targets = await AssessmentTarget.filter(challenge_id=c.id).order_by("position", "id")
    stages = await Stage.filter(challenge_id=c.id).order_by("position", "id")
    amendments = await Amendment.filter(challenge_id=c.id).order_by("version")
    answered = await Question.filter(challenge_id=c.id, answered_at__isnull=False).order_by("answered_at", "id")
    files = await documents.documents_of(c)
    return public("ChallengeDetail", {
        **challenge_row(c, now), "description": c.description, "eligibility": c.eligibility_text,
        "targets": [public("Target", {"name": t.name, "target_value": t.target_value, "unit": t.unit,
                                      "verification": t.verification}) for t in targets],
        "stages": [public("Stage", {"name": s.name, "deliverable": s.deliverable, "due_at": _time(s.due_at),
                                    "teams_going_on": s.advance_count, "funding_wan": _wan(s.funding_wan)})
                   for s in stages],
        "amendments": [public("Amendment", {
            "version": a.version, "explanation": a.explanation, "published_at": _time(a.created_at),
            "changes": [public("Change", {"field": ch.get("field", ""), "before": ch.get("before"),
                                          "after": ch.get("after")}) for ch in a.changes or []]})
            for a in amendments],
        "answers": [public("Answer", {"id": q.id, "question": q.body, "answer": q.answer,
                                      "answered_at": _time(q.answered_at)}) for q in answered],
        "documents": [public("Document", {"kind": d.category, "filename": d.filename, "size": d.blob.size,
                                          "url": f"/challenges/{c.id}/documents/{d.id}"}) for d in files],
        "feed_url": f"/challenges/{c.id}/feed.atom",
    })


def public_notices():
    """Notices as the results pages publish them: open, announced and withdrawn ones, newest first."""
    return (Notice.filter(challenge__status__in=list(PUBLIC_CHALLENGE_STATES))
            .select_related("challenge", "stage", "decision").order_by("-published_at", "-id"))


async def notice_rows(notices: list[Notice]) -> list[dict]:
    """The notices with the teams they name: the proposed (selected) ones, as on the public page."""
    rows = []
    for view in await notice_views(notices, selected_only=True):
        n = view.notice
        rows.append(public("Notice", {
            "id": n.id, "challenge_id": n.challenge_id, "challenge_number": n.challenge.public_number,
            "challenge_title": n.challenge.title, "kind": n.kind.value,
            "stage": n.stage.name if n.kind == NoticeKind.STAGE and n.stage else None, "status": n.status.value,
            "revision": n.revision, "published_at": _time(n.published_at), "period_ends_at": _time(n.ends_at),
            "announced_at": _time(n.closed_at) if n.status == NoticeStatus.ANNOUNCED else None,
            "announcement": n.announcement if n.status == NoticeStatus.ANNOUNCED else "",
            "teams": [public("Proposed", {"rank": item.entry.rank, "lead_organisation": item.entry.bid.lead_org.name,
                                          "partners": list(item.partners)}) for item in view.selected],
            "url": notice_link(n),
        }))
    return rows
