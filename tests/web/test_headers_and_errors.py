"""Security headers on every kind of response, session cookie hardening, and the error pages."""

import httpx
import pytest
from starlette.routing import Route

from challenge.accounts.models import Role
from challenge.app import create_app
from conftest import Client
from factories import make_user

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    policy = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'",
                      "form-action 'self'"):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


async def test_security_headers_on_pages_redirects_errors_and_static_files(client):
    user = await make_user(Role.SUBMITTER)
    responses = [
        await client.get("/"),
        await client.get("/login"),
        await client.get("/account"),  # redirect to sign in
        await client.get("/no-such-page"),
        await client.get("/logout"),  # 405
        await client.post("/locale", data={"locale": "en"}),  # CSRF refusal
        await client.get("/static/css/site.css"),
        await client.get("/healthz"),
    ]
    await client.login(user.email)
    responses += [await client.get("/account"), await client.get("/admin/")]
    for response in responses:
        assert_security_headers(response)


async def test_error_pages_are_rendered_pages(client):
    submitter = await make_user(Role.SUBMITTER)
    not_found = await client.get("/needs/999999999")
    missing = await client.get("/no-such-page")
    wrong_method = await client.get("/logout")
    await client.login(submitter.email)
    forbidden = await client.get("/admin/")
    for response, status, title in ((missing, 404, "页面不存在"), (wrong_method, 405, "不支持的请求方式"),
                                    (forbidden, 403, "没有权限")):
        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert f"<h1>{title}</h1>" in response.text
        assert "回到首页" in response.text and "</html>" in response.text  # the full layout, not a bare message
    assert not_found.status_code in {303, 404}  # anonymous: sign-in first, or not found


async def test_an_unexpected_error_is_a_500_page_without_details(db, settings):
    app = create_app(settings, manage_orm=False)

    async def broken(request):
        raise RuntimeError("secret internal detail")

    app.router.routes.insert(0, Route("/_test/broken", broken))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with Client(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/_test/broken")
    assert response.status_code == 500
    assert "系统出错" in response.text and "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    assert_security_headers(response)


async def test_tampered_session_cookie_is_ignored(client):
    user = await make_user(Role.SUBMITTER)
    await client.login(user.email)
    cookie = client.cookies["challenge_session"]
    client.cookies.set("challenge_session", cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB"))
    response = await client.get("/account")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_password_change_signs_out_other_sessions(client, make_client):
    user = await make_user(Role.SUBMITTER)
    other = make_client()
    await client.login(user.email)
    await other.login(user.email)
    response = await client.submit("/account/password", {"current_password": "correct-horse-42",
                                                           "new_password": "new-passw0rd-1",
                                                           "new_password_confirm": "new-passw0rd-1"})
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 200
    assert (await other.get("/account")).status_code == 303


@pytest.mark.parametrize("secure", [True, False])
async def test_session_cookie_flags(db, settings, secure):
    app = create_app(settings.with_overrides(secure_cookies=secure), manage_orm=False)
    async with Client(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        response = await http.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert ("secure" in cookie.split(";")[-1] or "; secure" in cookie) is secure
