"""Following a challenge by e-mail: the subscription form, the confirmation and the unsubscribe.

The unsubscribe POST is exempt from the CSRF check (see `CSRF_EXEMPT`): a mail client sends it
by itself (RFC 8058 one-click), and the signed token in the address is what authenticates it.
"""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from challenge.challenges.models import Challenge
from challenge.errors import DomainError
from challenge.follow import services
from challenge.web.flash import flash
from challenge.web.forms import Form, read_form
from challenge.web.http import redirect
from challenge.web.i18n import _, get_locale
from challenge.web.templating import render

CSRF_EXEMPT = ("/follow/unsubscribe/",)


async def _public_challenge(request: Request) -> Challenge:
    challenge = await Challenge.get_or_none(id=request.path_params["challenge_id"])
    if challenge is None or not challenge.is_public:
        raise HTTPException(404)
    return challenge


async def subscribe(request: Request):
    """GET: the form (also reached from the challenge page); POST: ask for the confirmation mail."""
    challenge = await _public_challenge(request)
    form = Form()
    status_code = 200
    if request.method == "POST":
        form = Form(await read_form(request))
        email = form.email("email")
        if form.is_valid:
            try:
                await services.subscribe(challenge=challenge, email=email, locale=get_locale())
            except DomainError as error:
                form.add_errors(error.errors or {"email": error.message})
            else:
                flash(request, _("如果该地址有效，确认邮件已发送至 %(email)s。请打开邮件中的链接确认订阅；"
                                 "确认前不会发送其他邮件。", email=email))
                return redirect(f"/challenges/{challenge.id}")
        status_code = 400
    return render(request, "follow/subscribe.html", {"challenge": challenge, "form": form},
                  status_code=status_code)


async def confirm(request: Request):
    """GET shows a button (a mail scanner opening the link confirms nothing); POST confirms."""
    subscription = await services.by_confirm_token(request.path_params["token"])
    if subscription is None:
        return render(request, "follow/invalid.html", {"days": services.CONFIRM_DAYS}, status_code=404)
    if request.method == "POST":
        await read_form(request)
        await services.confirm(subscription=subscription)
        flash(request, _("订阅已确认。本榜单发布补充通知、答疑和结果公示时，我们将发邮件告知。"))
        return redirect(f"/challenges/{subscription.challenge_id}")
    return render(request, "follow/confirm.html", {"subscription": subscription,
                                                   "challenge": subscription.challenge})


async def unsubscribe(request: Request):
    """GET shows a button; POST (one click from the mail client, or the button) unsubscribes."""
    subscription = await services.by_unsubscribe_token(request.path_params["token"])
    if request.method == "POST":
        if subscription is not None:
            await services.unsubscribe(subscription=subscription)
        # Already gone (a second click, a link of an earlier subscription): the same answer.
        return render(request, "follow/unsubscribed.html", {})
    if subscription is None:
        return render(request, "follow/unsubscribed.html", {})
    return render(request, "follow/unsubscribe.html", {"subscription": subscription,
                                                       "challenge": subscription.challenge})


routes = [
    Route("/challenges/{challenge_id:int}", subscribe, methods=["GET", "POST"], name="subscribe"),
    Route("/confirm/{token:str}", confirm, methods=["GET", "POST"], name="confirm"),
    Route("/unsubscribe/{token:str}", unsubscribe, methods=["GET", "POST"], name="unsubscribe"),
]
