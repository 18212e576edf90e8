"""Offset pagination: one COUNT and one page query, whatever the table size."""

from dataclasses import dataclass
from math import ceil
from urllib.parse import urlencode

PER_PAGE = 20


@dataclass
class Page:
    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return 0 if not self.total else (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.per_page)

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to link, with None for the gaps: 1 … 4 5 [6] 7 8 … 20."""
        shown = {1, self.pages} | set(range(self.number - size, self.number + size + 1))
        result: list[int | None] = []
        previous = 0
        for n in sorted(p for p in shown if 1 <= p <= self.pages):
            if n - previous > 1:
                result.append(None)
            result.append(n)
            previous = n
        return result


def page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


async def paginate(queryset, number: int, per_page: int = PER_PAGE) -> Page:
    total = await queryset.count()
    pages = max(1, ceil(total / per_page))
    number = min(max(1, number), pages)
    items = await queryset.offset((number - 1) * per_page).limit(per_page)
    return Page(items=list(items), number=number, per_page=per_page, total=total)


def page_url(params: dict, number: int) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "") and k != "page"}
    query["page"] = number
    return "?" + urlencode(query, doseq=True)


def sort_helpers(params: dict):
    """Links and aria-sort values for sortable column headers."""
    current = params.get("sort", "")

    def url(key: str, descending_first: bool = False) -> str:
        if current.lstrip("-") == key:
            target = key if current.startswith("-") else "-" + key
        else:
            target = ("-" + key) if descending_first else key
        query = {k: v for k, v in params.items() if v not in (None, "") and k != "page"}
        query["sort"] = target
        return "?" + urlencode(query)

    def state(key: str) -> str:
        if current.lstrip("-") != key:
            return "none"
        return "descending" if current.startswith("-") else "ascending"

    return url, state
