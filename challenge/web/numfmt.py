"""Amounts and sizes written one way everywhere (pages, mail, messages of the services)."""

from decimal import Decimal

from challenge.web.i18n import get_locale


def format_wan(value: Decimal | int | float | None) -> str:
    """Amounts in 万元 (ten thousand yuan), grouped and without trailing zeros."""
    if value is None:
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"))
    text = f"{amount:,.2f}".rstrip("0").rstrip(".")
    return f"{text} 万元" if get_locale() != "en" else f"{text} × 10k CNY"


def format_size(size: int | None) -> str:
    """File sizes written one way everywhere: 512 B, 12.3 KB, 4.5 MB, 1.2 GB (powers of 1024)."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}"
    return ""
