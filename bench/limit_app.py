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
from challenge.challenges.routes import list_context
from challenge.settings import load_settings
from challenge.web.templating import render


def create_app() -> Starlette:
    settings = load_settings()
    context: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async with RegisterTortoise(app, config=db.tortoise_config(settings)):
            # The same context as the app's /challenges (its first page, no filters), read once.
            context.update(await list_context({}))
            yield

    async def listing(request):
        return render(request, "challenges/list.html", context)

    app = Starlette(routes=[Route("/", listing)], lifespan=lifespan, middleware=[
        Middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie="challenge_session")])
    app.state.settings = settings
    return app
