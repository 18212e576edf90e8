"""How amendments read on the page and in the feed: field labels and before/after values."""

from datetime import datetime
from decimal import Decimal

from challenge.accounts.models import OrgType
from challenge.catalog import regions
from challenge.challenges.models import Amendment
from challenge.enums import N_
from challenge.web.i18n import _
from challenge.web.numfmt import format_wan
from challenge.web.timefmt import format_datetime

FIELD_LABELS = {
    "title": N_("榜单名称"), "summary": N_("榜单简介"), "description": N_("详细说明"),
    "closes_at": N_("揭榜截止时间"), "funding_wan": N_("榜单金额"), "delivery_months": N_("攻关周期"),
    "winners_count": N_("揭榜成功团队数"), "eligibility_text": N_("揭榜条件"),
    "allowed_org_types": N_("允许的单位类型"), "allowed_regions": N_("允许的地区"),
    "consortium_required": N_("须组成联合体"), "max_partners": N_("合作单位上限"), "targets": N_("考核指标"),
    "stages": N_("阶段经费"), "contact_name": N_("咨询联系人"), "contact_phone": N_("咨询电话"),
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
        return "\n".join(_target_lines(value))
    if name == "stages":
        return "\n".join(f"{row['name']}：{format_wan(Decimal(row['funding_wan']))}" for row in value)
    return str(value)


def _target_lines(targets: list[dict]) -> list[str]:
    return [f"{i}. {t['name']}：{t['target_value']} {t['unit']}".rstrip()
            + (f"（{t['verification']}）" if t.get("verification") else "")
            for i, t in enumerate(targets, start=1)]


def _describe_targets(before: list[dict], after: list[dict]) -> tuple[str, str]:
    """Only the targets that changed, were added or were removed: the rest reads as noise."""
    old, new = _target_lines(before or []), _target_lines(after or [])
    removed = [line for line in old if line not in new]
    added = [line for line in new if line not in old]
    return "\n".join(removed) or _("（无）"), "\n".join(added) or _("（删除）")


def describe_changes(amendment: Amendment) -> list[dict]:
    rows = []
    for change in amendment.changes:
        name = change["field"]
        if name == "targets":
            before, after = _describe_targets(change["before"], change["after"])
        else:
            before, after = describe_value(name, change["before"]), describe_value(name, change["after"])
        rows.append({"field": name, "label": _(FIELD_LABELS.get(name, name)), "before": before, "after": after})
    return rows
