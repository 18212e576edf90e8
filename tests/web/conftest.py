"""Fixtures shared by the whole-app web tests."""

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from challenge.files.services import store_blobs
from challenge.files.uploads import receive_upload
from challenge.web.limits import UPLOAD, limited


@pytest.fixture
def upload_route(app, settings):
    """A test-only upload route on the real app (behind its real middleware): never in the product."""

    async def upload(request: Request):
        parsed = await receive_upload(request, request.app.state.storage, max_bytes=settings.max_upload_bytes,
                                      allowed=settings.allowed_upload_types)
        stored = await store_blobs(request.app.state.storage, parsed.files)
        return JSONResponse({"form": dict(parsed.form), "sha256": [blob.sha256 for _, blob in stored]})

    app.router.routes.insert(0, limited(Route("/_test/upload", upload, methods=["POST"]), UPLOAD))
    return "/_test/upload"
