"""One-time form tokens: a create form posted twice (a double click, Back and resubmit) creates
one object, and the second post lands on the object the first one created.

How to use it on a form that creates something:

1. In the template, inside the <form>, after `forms.csrf()`: `{{ forms.once(form) }}`. It renders
   a hidden `form_token`, new each time the form is shown and kept when the form comes back
   with errors (nothing was created then).
2. In the handler, make the object through `create_once`:

       need = await create_once(form, user=user, create=lambda: services.save_need(...),
                                location=lambda need: f"/needs/{need.id}")

   The token is claimed first (`FormToken`, unique), the object created (by the service, in its
   own transactions: file I/O stays outside any transaction), then the claim gets the object's
   address. A post whose token is already claimed raises `AlreadyCreated` with that address;
   if the first post is still being processed it waits for it (a double click), and if the
   first post failed (its claim is released) this one is processed normally. The app answers
   `AlreadyCreated` with a 303 to the first object.

A post without a token (an old page, a script) is not deduplicated.
"""

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from starlette.exceptions import HTTPException
from tortoise.exceptions import IntegrityError

from challenge.web.forms import Form
from challenge.web.i18n import _
from challenge.web.models import FormToken
from challenge.web.timefmt import now_utc

FIELD = "form_token"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
WAIT_SECONDS = 20.0
STALE_CLAIM = timedelta(minutes=10)  # a claim never completed (a crashed server) is given up
T = TypeVar("T")


class AlreadyCreated(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def token_of(form: Form) -> str | None:
    token = form.get(FIELD)
    return token if TOKEN_RE.match(token) else None


async def _claim(token: str, user) -> FormToken:
    """This post's claim on the token, or AlreadyCreated for the post that claimed it first."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            return await FormToken.create(token=token, user=user, location="")
        except IntegrityError:
            pass
        earlier = await FormToken.get_or_none(token=token)
        if earlier is not None and earlier.location:
            raise AlreadyCreated(earlier.location)
        if earlier is not None and earlier.created_at < now_utc() - STALE_CLAIM:
            await FormToken.filter(id=earlier.id, location="").delete()
        elif earlier is not None:
            if time.monotonic() > deadline:
                raise HTTPException(409, _("该表单正在处理中，请稍后刷新页面查看结果，不要重复提交。"))
            await asyncio.sleep(0.05)


async def create_once(form: Form, *, user, create: Callable[[], Awaitable[T]], location: Callable[[T], str]) -> T:
    token = token_of(form)
    if token is None:
        return await create()
    claim = await _claim(token, user)
    try:
        created = await create()
    except BaseException:
        await FormToken.filter(id=claim.id).delete()  # nothing was made: the form may be sent again
        raise
    await FormToken.filter(id=claim.id).update(location=location(created))
    return created
