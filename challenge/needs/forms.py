"""Parsing and validation of the campaign form, the need form and the list filters."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from starlette.datastructures import MultiDict

from challenge.catalog import regions
from challenge.needs.models import Need, NeedStatus
from challenge.needs.services import (
    DEFAULT_SORT,
    NEED_TEXT_FIELDS,
    PHONE_RE,
    SORTS,
    NeedContent,
    NeedFilters,
    submission_problems,
)
from challenge.web.forms import MAX_ID, Form, parse_id
from challenge.web.i18n import _
from challenge.web.timefmt import input_value

LONG_TEXT = 5000
MAX_COFUNDING = Decimal("99999999.99")


# -- campaigns -----------------------------------------------------------------------------------
@dataclass
class CampaignInput:
    title: str
    instructions: str
    domain_ids: list[int]
    opens_at: datetime | None
    closes_at: datetime | None


def parse_campaign(form: Form, *, domain_ids: list[int]) -> CampaignInput:
    values = CampaignInput(
        title=form.text("title", required=True, max_length=200),
        instructions=form.text("instructions", max_length=20000),
        domain_ids=form.choices("domains", domain_ids, required=True),
        opens_at=form.datetime_local("opens_at", required=True),
        closes_at=form.datetime_local("closes_at", required=True),
    )
    if values.opens_at and values.closes_at and values.closes_at <= values.opens_at:
        form.error("closes_at", _("截止时间须晚于开始时间"))
    return values


def campaign_form_data(campaign, domain_ids: list[int]) -> MultiDict:
    """A saved campaign as the form shows it (a MultiDict: `domains` has several values)."""
    return MultiDict([
        ("title", campaign.title),
        ("instructions", campaign.instructions),
        ("opens_at", input_value(campaign.opens_at)),
        ("closes_at", input_value(campaign.closes_at)),
        *(("domains", str(i)) for i in domain_ids),
    ])


# -- needs ---------------------------------------------------------------------------------------
def parse_need(form: Form, *, domain_ids: list[int], for_submit: bool) -> NeedContent:
    """Clean the need form. A draft needs only a title and well-formed values; a submission
    needs every field (see `submission_problems`)."""
    content = NeedContent(
        title=form.text("title", required=True, max_length=200),
        domain_id=form.choice("domain_id", domain_ids, required=False),
        bottleneck=form.text("bottleneck", max_length=LONG_TEXT),
        state_of_art=form.text("state_of_art", max_length=LONG_TEXT),
        target_indicators=form.text("target_indicators", max_length=LONG_TEXT),
        application_scenario=form.text("application_scenario", max_length=LONG_TEXT),
        expected_results=form.text("expected_results", max_length=LONG_TEXT),
        cofunding_wan=form.decimal("cofunding_wan", min_value=0, max_value=MAX_COFUNDING, places=2),
        hosts_scenario=_yes_no(form, "hosts_scenario"),
        contact_name=form.text("contact_name", max_length=100),
        contact_phone=form.text("contact_phone", max_length=30),
        contact_email=form.email("contact_email", required=False),
    )
    if content.contact_phone and not PHONE_RE.match(content.contact_phone):
        form.error("contact_phone", _("请输入有效的电话号码，例如 025-83331234 或 13800000000"))
    if for_submit:
        form.add_errors(submission_problems(content, answered_hosts=content.hosts_scenario is not None))
    return content


def _yes_no(form: Form, name: str) -> bool | None:
    raw = form.get(name).strip()
    if raw not in {"", "yes", "no"}:
        form.error(name, _("所选项无效，请重新选择"))
        return None
    return None if not raw else raw == "yes"


def need_form_data(need: Need) -> dict:
    """A saved need as the form shows it."""
    data = {name: getattr(need, name) or "" for name in ("title", *NEED_TEXT_FIELDS, "contact_name",
                                                          "contact_phone", "contact_email")}
    data["domain_id"] = str(need.domain_id or "")
    data["cofunding_wan"] = _plain_decimal(need.cofunding_wan)
    data["hosts_scenario"] = "yes" if need.hosts_scenario else "no"
    return data


def _plain_decimal(value) -> str:
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# -- screening -----------------------------------------------------------------------------------
SCREEN_DECISIONS = {
    "accept": NeedStatus.ACCEPTED,
    "return": NeedStatus.RETURNED,
    "reject": NeedStatus.REJECTED,
    "merge": NeedStatus.MERGED,
}


@dataclass
class ScreenInput:
    status: NeedStatus | None
    reason: str
    merge_into_id: int | None


def parse_screening(form: Form, *, merge_target_ids: list[int]) -> ScreenInput:
    decision = form.choice("decision", list(SCREEN_DECISIONS))
    status = SCREEN_DECISIONS.get(decision) if decision else None
    reason = form.text("reason", max_length=2000)
    merge_into_id = None
    if status in {NeedStatus.RETURNED, NeedStatus.REJECTED} and not reason:
        form.error("reason", _("退回或不予采纳时须填写理由，申报单位将看到该理由"))
    if status == NeedStatus.MERGED:
        merge_into_id = form.integer("merge_into", min_value=1, max_value=MAX_ID)
        if merge_into_id is None and "merge_into" not in form.errors:
            form.error("merge_into", _("请选择要并入的需求"))
        elif merge_into_id is not None and merge_into_id not in merge_target_ids:
            form.error("merge_into", _("只能并入同一批次中未被合并或否决的其他需求"))
    return ScreenInput(status=status, reason=reason, merge_into_id=merge_into_id)


# -- list filters --------------------------------------------------------------------------------


def parse_filters(query) -> NeedFilters:
    """Query-string filters; anything malformed is ignored rather than refused."""
    status_raw = query.get("status", "")
    status = NeedStatus(status_raw) if status_raw in {s.value for s in NeedStatus} else None
    region = query.get("region", "").strip()
    sort = query.get("sort", DEFAULT_SORT)
    filters = NeedFilters(
        campaign_id=parse_id(query.get("campaign")),
        domain_id=parse_id(query.get("domain")),
        region=region if regions.is_valid(region) else "",
        status=status,
        q=query.get("q", "").strip()[:100],
        sort=sort if sort in SORTS else DEFAULT_SORT,
    )
    filters.params = {
        "campaign": filters.campaign_id or "", "domain": filters.domain_id or "", "region": filters.region,
        "status": filters.status.value if filters.status else "", "q": filters.q, "sort": filters.sort,
    }
    return filters
