"""Administrative divisions (行政区划代码, GB/T 2260): provinces and main prefecture-level cities.

The list lives in data/regions.tsv (code, name); a code is valid when it is listed there.
"""

import csv
from functools import cache

from challenge.settings import PACKAGE_ROOT

REGIONS_FILE = PACKAGE_ROOT / "data" / "regions.tsv"


@cache
def regions() -> dict[str, str]:
    with open(REGIONS_FILE, encoding="utf-8") as handle:
        return {row[0]: row[1] for row in csv.reader(handle, delimiter="\t") if row and not row[0].startswith("#")}


def province_code(code: str) -> str:
    return code[:2] + "0000"


def is_valid(code: str) -> bool:
    return code in regions()


def name(code: str) -> str:
    """Full name, with the province in front of a city: 江苏省 苏州市."""
    table = regions()
    if code not in table:
        return code
    province = province_code(code)
    if province != code and province in table:
        return f"{table[province]} {table[code]}"
    return table[code]


def provinces() -> list[tuple[str, str]]:
    return [(code, label) for code, label in regions().items() if code.endswith("0000")]


def choices() -> list[tuple[str, str]]:
    """(code, label) sorted by code, each city after its province."""
    return [(code, name(code)) for code in sorted(regions())]
