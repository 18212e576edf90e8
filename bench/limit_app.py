"""The limit: a bare Starlette endpoint rendering the public list template from memory.

Same Jinja environment, template, context processor and session middleware as the app's
`/challenges`, with the page's data read once at start-up from the seeded database. What the
real page costs beyond this is the database, the middleware stack and the handler.

    uvicorn --factory bench.limit_app:create_app
"""

import contextlib

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from challenge import db
from challenge.catalog.models import Domain
from challenge.challenges import forms, services
from challenge.challenges.models import PUBLIC_CHALLENGE_STATES, ChallengeStatus
from challenge.challenges.routes import _filter_context
from challenge.settings import load_settings
from challenge.web.pagination import paginate
from challenge.web.templating import render
from challenge.web.timefmt import now_utc


def create_app() -> Starlette:
    settings = load_settings()
    context: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async with RegisterTortoise(app, config=db.tortoise_config(settings)):
            now = now_utc()
            filters, errors = forms.parse_filters({})
            query = await services.filtered_challenges(filters, now=now)
            page = await paginate(query.select_related("domain").prefetch_related("issuers"), 1)
            context.update({
                **_filter_context(filters, errors), "page": page, "now": now,
                "domains": await Domain.filter(is_active=True).order_by("sort_order", "id"),
                "statuses": [s for s in ChallengeStatus if s in PUBLIC_CHALLENGE_STATES],
                "filtered": False,
            })
            yield

    async def listing(request):
        return render(request, "challenges/list.html", context)

    app = Starlette(routes=[Route("/", listing)], lifespan=lifespan, middleware=[
        Middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie="challenge_session")])
    app.state.settings = settings
    return app
