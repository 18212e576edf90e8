"""How amendments read on the page and in the feed: field labels and before/after values."""

from datetime import datetime
from decimal import Decimal

from challenge.accounts.models import OrgType
from challenge.catalog import regions
from challenge.challenges.models import Amendment
from challenge.enums import N_
from challenge.web.i18n import _
from challenge.web.templating import format_wan
from challenge.web.timefmt import format_datetime

FIELD_LABELS = {
    "title": N_("榜单名称"), "summary": N_("榜单简介"), "description": N_("详细说明"),
    "closes_at": N_("揭榜截止时间"), "funding_wan": N_("榜单金额"), "delivery_months": N_("攻关周期"),
    "winners_count": N_("揭榜成功团队数"), "eligibility_text": N_("揭榜条件"),
    "allowed_org_types": N_("允许的单位类型"), "allowed_regions": N_("允许的地区"),
    "consortium_required": N_("须组成联合体"), "max_partners": N_("合作单位上限"), "targets": N_("考核指标"),
}


def describe_value(name: str, value) -> str:
    """A stored before/after value as a reader would write it."""
    if value in (None, "", []):
        return _("（无）")
    if name == "closes_at":
        return format_datetime(datetime.fromisoformat(value))
    if name == "funding_wan":
        return format_wan(Decimal(value))
    if name == "delivery_months":
        return _("%(n)s 个月", n=value)
    if name == "consortium_required":
        return _("是") if value else _("否")
    if name == "allowed_org_types":
        labels = {t.value: t.label for t in OrgType}
        return "、".join(labels.get(v, v) for v in value)
    if name == "allowed_regions":
        return "、".join(regions.name(v) for v in value)
    if name == "targets":
        return "\n".join(f"{i}. {t['name']}：{t['target_value']} {t['unit']}".rstrip()
                         + (f"（{t['verification']}）" if t.get("verification") else "")
                         for i, t in enumerate(value, start=1))
    return str(value)


def describe_changes(amendment: Amendment) -> list[dict]:
    return [{"field": c["field"], "label": _(FIELD_LABELS.get(c["field"], c["field"])),
             "before": describe_value(c["field"], c["before"]), "after": describe_value(c["field"], c["after"])}
            for c in amendment.changes]
