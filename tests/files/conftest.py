"""The test-only upload app (factories.uploads.make_upload_app) over in-process HTTP."""

import httpx
import pytest

from factories.uploads import make_upload_app


@pytest.fixture
def upload_app(db, settings):
    return make_upload_app(settings)


@pytest.fixture
async def http(upload_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=upload_app), base_url="http://testserver") as client:
        yield client
