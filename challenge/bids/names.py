"""The names that identify a bid's team, and where they occur in its text.

Used by the blind-review warning on the bid form (a bidder sees each occurrence before he
submits) and by the expert's view of a blind bid (the same names masked). Besides the full
names: an organisation's name without its legal or institutional suffix ("清华大学" -> "清华",
"南方新材料股份有限公司" -> "南方新材料"), a Chinese person's name in pinyin in both orders
("张伟" -> "Zhang Wei", "Wei Zhang", "Zhangwei"), and a Latin name in both orders; Latin
names match whatever their case.
"""

import asyncio
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import aiofiles
from pypinyin import Style, lazy_pinyin

from challenge.files import documents
from challenge.web.i18n import gettext as _

# Longest first: the first that ends a name is removed.
ORG_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "公司", "大学", "学院", "研究院",
                "研究所", "研究中心", "中心", "协会")
ORG_PREFIXES = ("中国科学院", "中国")
# Two-character surnames: the rest of the name is the given name.
COMPOUND_SURNAMES = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
                     "夏侯", "轩辕", "令狐", "钟离", "澹台", "端木", "南宫", "西门", "独孤", "呼延"}
_HAN = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
_LATIN = re.compile(r"[A-Za-z]")
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")
MIN_LENGTH = 2


def organisation_variants(name: str) -> set[str]:
    name = _BRACKETS.sub("", (name or "").strip()).strip()
    if not name:
        return set()
    found = {name}
    for suffix in ORG_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= MIN_LENGTH:
            found.add(name[: -len(suffix)])
            break
    for prefix in ORG_PREFIXES:
        stripped = {v[len(prefix):] for v in found if v.startswith(prefix) and len(v) - len(prefix) >= MIN_LENGTH + 1}
        if stripped:
            found |= stripped
            break
    return found


def person_variants(name: str) -> set[str]:
    name = (name or "").strip()
    if not name:
        return set()
    found = {name}
    if _HAN.match(name):
        han = name.replace("·", "")
        split = 2 if len(han) >= 3 and han[:2] in COMPOUND_SURNAMES else 1
        surname = "".join(lazy_pinyin(han[:split], style=Style.NORMAL)).capitalize()
        given = "".join(lazy_pinyin(han[split:], style=Style.NORMAL)).capitalize()
        if surname and given:
            found |= {f"{surname} {given}", f"{given} {surname}", f"{surname}{given}"}
    elif _LATIN.search(name):
        parts = name.replace(",", " ").split()
        if len(parts) >= 2:
            found.add(" ".join(reversed(parts)))
    return found


@dataclass(frozen=True)
class Names:
    """Every form of the team's names to look for, longest first."""

    variants: tuple[str, ...]

    @classmethod
    def of(cls, *, organisations: list[str], people: list[str], others: list[str] = ()) -> "Names":
        found: set[str] = set()
        for name in organisations:
            found |= organisation_variants(name)
        for name in people:
            found |= person_variants(name)
        found |= {o.strip() for o in others if o and o.strip()}
        return cls(tuple(sorted((v for v in found if len(v) >= MIN_LENGTH), key=lambda v: (-len(v), v))))

    def pattern(self) -> re.Pattern | None:
        if not self.variants:
            return None
        parts = []
        for variant in self.variants:
            escaped = re.escape(variant).replace(r"\ ", r"\s*")
            # A Latin name is a whole word: "Wei" inside "Weizmann" is not a name.
            parts.append(rf"(?<![A-Za-z]){escaped}(?![A-Za-z])" if _LATIN.search(variant) else escaped)
        return re.compile("|".join(parts), re.IGNORECASE)

    def find(self, text: str) -> list[str]:
        """The names found in `text`, as written there, in order."""
        pattern = self.pattern()
        return [m.group(0) for m in pattern.finditer(text or "")] if pattern else []

    def mask(self, text: str, replacement: str = "***") -> str:
        pattern = self.pattern()
        return pattern.sub(replacement, text) if pattern and text else text


# -- the warning on the bid form of a blind challenge -------------------------------------------

SCAN_MAX_BYTES = 30 * 1024 * 1024


def team_names(copy) -> Names:
    """The names of a working copy's lead organisation, partners and team members."""
    organisations = [copy.lead.name, *(p.name for p in copy.partners), *(m.organisation_name for m in copy.members)]
    people = [m.name for m in copy.members]
    others = [m.email for m in copy.members] + [m.contact for m in copy.members if "@" in (m.contact or "")]
    return Names.of(organisations=[o for o in organisations if o], people=people, others=others)


def _count(found: list[str]) -> str:
    counts: dict[str, int] = {}
    for name in found:
        counts[name] = counts.get(name, 0) + 1
    return "、".join(_("“%(name)s”（%(n)s 处）", name=name, n=n) for name, n in counts.items())


def text_warnings(copy, names: Names) -> list[str]:
    """Where the text shown to experts names the team."""
    fields = [(_("申报名称"), copy.bid.title), (_("技术路线"), copy.bid.approach), (_("已有基础"), copy.bid.foundation)]
    targets = {t.id: t.name for t in copy.targets}
    for target_id, row in copy.commitments.items():
        fields.append((_("考核指标承诺（%(name)s）", name=targets.get(target_id, "")), f"{row.committed_value} {row.note}"))
    for number, row in enumerate(copy.milestones, start=1):
        fields.append((_("里程碑 %(n)s", n=number), f"{row.title} {row.deliverable}"))
    for number, row in enumerate(copy.budget, start=1):
        fields.append((_("预算科目 %(n)s", n=number), f"{row.item} {row.note}"))
    warnings = []
    for label, text in fields:
        found = names.find(text)
        if found:
            warnings.append(_("%(where)s：%(names)s", where=label, names=_count(found)))
    return warnings


async def pdf_warnings(attachments, names: Names, storage) -> list[str]:
    """Where the text of the attached PDFs names the team (page by page)."""
    warnings = []
    for attachment in attachments:
        if attachment.blob.kind != "pdf":
            continue
        if attachment.blob.size > SCAN_MAX_BYTES:
            warnings.append(_("附件“%(file)s”较大，未能自动检查其中的名称，请自行核对。", file=attachment.filename))
            continue
        with tempfile.TemporaryDirectory(prefix="challenge-names-") as folder:
            path = Path(folder) / "scan.pdf"
            async with aiofiles.open(path, "wb") as handle:
                async for chunk in storage.read(attachment.blob.storage_key):
                    await handle.write(chunk)
            pages = await asyncio.to_thread(documents.pdf_text, path)
        by_page = [(number, names.find(text)) for number, text in pages]
        found = [name for _number, names_found in by_page for name in names_found]
        if found:
            numbers = "、".join(str(number) for number, names_found in by_page if names_found)
            warnings.append(_("附件“%(file)s”第 %(pages)s 页：%(names)s", file=attachment.filename, pages=numbers,
                              names=_count(found)))
    return warnings


async def blind_warnings(copy, storage) -> list[str]:
    """Each place, in the text fields and in the PDFs' text, where a blind bid names its team."""
    names = team_names(copy)
    return text_warnings(copy, names) + await pdf_warnings(copy.attachments, names, storage)
