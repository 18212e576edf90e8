"""Form parsing and validation that keeps what the user typed.

A handler builds `Form(await read_form(request))`, reads cleaned values through the typed
methods (each records a message next to its field on bad input), and either calls a service
or re-renders the template with `form`, whose `data` holds the raw input.

`read_form` is the only way to read a form body (never `request.form()` directly): it accepts no
file parts (attachments go through `files.uploads.receive_upload`, which streams them) and
bounds the number and size of fields, with the refusal in the reader's language.
"""

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from challenge.web.convertors import MAX_INT
from challenge.web.i18n import _
from challenge.web.timefmt import beijing_to_utc

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_FIELDS = 1000
MAX_FIELD_BYTES = 512 * 1024
MAX_ID = MAX_INT  # the largest id a database integer key holds: a larger one is never an object


async def read_form(request: Request) -> FormData:
    """The posted fields (urlencoded or multipart without files), within the limits above."""
    try:
        return await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES)
    except HTTPException as error:
        if error.status_code != 400:
            raise
        # Starlette's own message is English ("Too many fields..."): say it in the reader's language.
        raise HTTPException(400, _("提交的表单包含文件或过多、过长的内容，未保存任何内容。请返回页面重新填写后提交。")) from None


class Form:
    def __init__(self, data: Mapping | None = None) -> None:
        self._source = data
        self.data: dict[str, str] = {}
        if data is not None:
            for key in data.keys():
                value = data.get(key)
                if isinstance(value, str):
                    self.data[key] = value
        self.errors: dict[str, str] = {}

    # -- state ---------------------------------------------------------------
    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def status_code(self) -> int:
        """For re-rendering a form: 400 when it carries errors, so clients and tests can tell."""
        return 200 if self.is_valid else 400

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def add_errors(self, errors: Mapping[str, str]) -> None:
        for name, message in errors.items():
            self.error(name, message)

    def get(self, name: str, default: str = "") -> str:
        return self.data.get(name, default)

    def getlist(self, name: str) -> list[str]:
        if self._source is None or not hasattr(self._source, "getlist"):
            value = self.data.get(name)
            return [value] if value else []
        return [v for v in self._source.getlist(name) if isinstance(v, str)]

    # -- typed readers -------------------------------------------------------
    def text(self, name: str, *, required: bool = False, max_length: int | None = None,
             min_length: int = 0, strip: bool = True) -> str:
        value = self.data.get(name, "")
        if strip:
            value = value.strip()
        if required and not value:
            self.error(name, _("此项为必填项"))
        elif value and len(value) < min_length:
            self.error(name, _("至少需要 %(n)s 个字符", n=min_length))
        elif max_length is not None and len(value) > max_length:
            self.error(name, _("不能超过 %(n)s 个字符", n=max_length))
        return value

    def email(self, name: str, *, required: bool = True) -> str:
        value = self.text(name, required=required, max_length=254).lower()
        if value and not EMAIL_RE.match(value):
            self.error(name, _("请输入有效的电子邮箱地址，例如 name@example.cn"))
        return value

    def integer(self, name: str, *, required: bool = False, min_value: int | None = None,
                max_value: int | None = None, default: int | None = None) -> int | None:
        raw = self.data.get(name, "").strip()
        if not raw:
            if required:
                self.error(name, _("此项为必填项"))
            return default
        try:
            value = int(raw)
        except ValueError:
            self.error(name, _("请输入整数"))
            return default
        if not -MAX_INT <= value <= MAX_INT:
            # No column holds it (ids included): refused here rather than overflowing in the database.
            self.error(name, _("数值超出允许范围"))
            return default
        return self._check_range(name, value, min_value, max_value, default)

    def decimal(self, name: str, *, required: bool = False, min_value: Decimal | int | None = None,
                max_value: Decimal | int | None = None, places: int = 2,
                default: Decimal | None = None) -> Decimal | None:
        raw = self.data.get(name, "").strip().replace(",", "")
        if not raw:
            if required:
                self.error(name, _("此项为必填项"))
            return default
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.error(name, _("请输入数字"))
            return default
        if not value.is_finite():
            self.error(name, _("请输入数字"))
            return default
        if value.as_tuple().exponent < -places:
            self.error(name, _("最多保留 %(n)s 位小数", n=places))
            return default
        return self._check_range(name, value, min_value, max_value, default)

    def _check_range(self, name, value, min_value, max_value, default):
        if min_value is not None and value < min_value:
            self.error(name, _("不能小于 %(n)s", n=min_value))
            return default
        if max_value is not None and value > max_value:
            self.error(name, _("不能大于 %(n)s", n=max_value))
            return default
        return value

    def choice(self, name: str, choices: Iterable, *, required: bool = True, default=None):
        raw = self.data.get(name, "").strip()
        allowed = {str(c): c for c in choices}
        if not raw:
            if required:
                self.error(name, _("请选择一项"))
            return default
        if raw not in allowed:
            self.error(name, _("所选项无效，请重新选择"))
            return default
        return allowed[raw]

    def choices(self, name: str, choices: Iterable, *, required: bool = False) -> list:
        allowed = {str(c): c for c in choices}
        values = [v for v in self.getlist(name) if v]
        if required and not values:
            self.error(name, _("请至少选择一项"))
        bad = [v for v in values if v not in allowed]
        if bad:
            self.error(name, _("所选项无效，请重新选择"))
        return [allowed[v] for v in values if v in allowed]

    def boolean(self, name: str) -> bool:
        return self.data.get(name, "").strip().lower() in {"1", "on", "true", "yes"}

    def date(self, name: str, *, required: bool = False) -> date | None:
        raw = self.data.get(name, "").strip()
        if not raw:
            if required:
                self.error(name, _("此项为必填项"))
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.error(name, _("日期格式应为 年-月-日，例如 2026-12-31"))
            return None

    def datetime_local(self, name: str, *, required: bool = False) -> datetime | None:
        """A Beijing wall time from <input type=datetime-local>, returned in UTC."""
        raw = self.data.get(name, "").strip()
        if not raw:
            if required:
                self.error(name, _("此项为必填项"))
            return None
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            self.error(name, _("时间格式应为 年-月-日 时:分，例如 2026-12-31 17:00"))
            return None
        return beijing_to_utc(value.replace(tzinfo=None))


def parse_id(raw: str | None) -> int | None:
    """An id from a query or form value; None for anything that cannot be one (blank, text, 0, too large)."""
    try:
        value = int(raw) if raw and raw.strip() else None
    except ValueError:
        return None
    return value if value is not None and 0 < value <= MAX_ID else None


def parse_ids(values: Iterable[str]) -> list[int]:
    """The ids among form values, in order; anything else left out ("²" is a digit to str.isdigit
    but not to int())."""
    return [i for i in map(parse_id, values) if i is not None]
