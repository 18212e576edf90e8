"""String enums that carry their translatable label: `NeedStatus.DRAFT.label`."""

from enum import StrEnum

from challenge.web.i18n import gettext


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated later, when shown."""
    return message


class LabelledStrEnum(StrEnum):
    def __new__(cls, value: str, label: str | None = None):
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label or value
        return member

    @property
    def label(self) -> str:
        return gettext(self._label)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]
