"""Single sign-on against a real OpenID provider (oidc-provider-mock) over real HTTP.

The provider runs in a thread on a free local port. The test plays the browser: it follows the
app's redirect to the provider, submits the provider's authorization form for a chosen subject,
and follows the provider's redirect back to /oidc/callback on the app (in-process ASGI client).
"""

import threading
from urllib.parse import parse_qs, urlsplit

import httpx
import oidc_provider_mock
import pytest
import werkzeug.serving

from challenge.accounts.models import Organisation, OrgStatus, Role, User
from challenge.app import create_app
from challenge.audit.models import AuditEntry
from conftest import Client
from factories import PASSWORD, credit_code, make_org, make_user

CLIENT_ID = "challenge-test"


@pytest.fixture(scope="module")
def provider():
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def sso_settings(settings, provider):
    return settings.with_overrides(oidc_issuer=provider, oidc_client_id=CLIENT_ID,
                                   oidc_client_secret="test-secret", oidc_label="测试统一认证")


@pytest.fixture
async def sso(db, sso_settings):
    app = create_app(sso_settings, manage_orm=False)
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


def set_identity(provider: str, sub: str, **claims) -> None:
    response = httpx.put(f"{provider}/users/{sub}", json=claims)
    assert response.status_code == 204


async def provider_redirect(sso: Client, path: str = "/oidc/login") -> str:
    response = await sso.get(path)
    assert response.status_code == 302, response.text[:500]
    return response.headers["location"]


def authorize_at_provider(url: str, sub: str, action: str | None = None) -> str:
    """What the person does at the provider: open its form, choose an identity, submit."""
    with httpx.Client() as browser:
        form = browser.get(url)
        assert form.status_code == 200 and "Authorize" in form.text
        data = {"action": action} if action else {"sub": sub}
        answer = browser.post(url, data=data)
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["location"]


async def sign_in_via_provider(sso: Client, provider: str, sub: str, **claims) -> httpx.Response:
    if claims:
        set_identity(provider, sub, **claims)
    callback = authorize_at_provider(await provider_redirect(sso), sub)
    assert callback.startswith("http://testserver/oidc/callback?")
    return await sso.get(callback)


async def test_login_page_shows_the_button_only_when_configured(sso, client):
    page = await sso.get("/login")
    assert 'href="/oidc/login"' in page.text and "使用测试统一认证登录" in page.text
    page = await sso.get("/login?next=/inbox")
    assert 'href="/oidc/login?next=/inbox"' in page.text  # where they were going survives SSO too
    plain = await client.get("/login")
    assert "/oidc/login" not in plain.text
    assert (await client.get("/oidc/login")).status_code == 404
    assert (await client.get("/oidc/callback?code=x&state=y")).status_code == 404


async def test_redirect_carries_state_nonce_and_pkce(sso, provider):
    location = await provider_redirect(sso)
    assert location.startswith(f"{provider}/oauth2/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/oidc/callback"]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url SHA-256, no padding
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    second = parse_qs(urlsplit(await provider_redirect(sso)).query)
    assert second["state"] != query["state"] and second["nonce"] != query["nonce"]
    assert second["code_challenge"] != query["code_challenge"]


async def test_new_person_gets_a_passwordless_bidder_account_without_organisation(sso, provider):
    response = await sign_in_via_provider(sso, provider, "sub-new-1", email="Wang.Wu@Example.cn",
                                          email_verified=True, name="王五")
    assert response.status_code == 303 and response.headers["location"] == "/account"
    user = await User.get(oidc_subject="sub-new-1")
    assert user.email == "wang.wu@example.cn" and user.name == "王五"
    assert user.password_hash == "" and user.organisation_id is None
    assert user.roles == [Role.BIDDER] and user.last_login_at is not None
    entry = await AuditEntry.get(action="user.oidc_create")
    assert entry.object_id == str(user.id) and entry.after["subject"] == "sub-new-1"
    account = await sso.get("/account")
    assert account.status_code == 200 and "wang.wu@example.cn" in account.text
    assert "尚未加入单位" in account.text and 'href="/account/organisation"' in account.text
    assert "尚未设置密码" in account.text
    # No password means no password sign-in.
    other = await sso.submit("/logout")
    assert other.status_code == 303
    refused = await sso.submit("/login", {"email": "wang.wu@example.cn", "password": "any-password-1"})
    assert refused.status_code == 400 and "邮箱或密码不正确" in refused.text


async def test_returning_person_is_recognised_by_subject(sso, provider):
    await sign_in_via_provider(sso, provider, "sub-back", email="back@example.cn", email_verified=True, name="回访")
    await sso.submit("/logout")
    # The provider now reports another e-mail: the subject, not the e-mail, identifies the person.
    response = await sign_in_via_provider(sso, provider, "sub-back", email="moved@example.cn",
                                          email_verified=True, name="回访")
    assert response.status_code == 303
    assert await User.filter(oidc_subject="sub-back").count() == 1
    assert await User.filter(email="moved@example.cn").count() == 0
    assert await AuditEntry.filter(action="user.oidc_create").count() == 1
    assert "back@example.cn" in (await sso.get("/account")).text


async def test_existing_account_with_verified_email_is_linked(sso, provider):
    user = await make_user(Role.SUBMITTER, email="li@example.cn")
    response = await sign_in_via_provider(sso, provider, "sub-li", email="LI@example.cn", email_verified=True)
    assert response.status_code == 303
    await user.refresh_from_db()
    assert user.oidc_subject == "sub-li" and user.is_submitter and not user.is_bidder
    assert await User.all().count() == 1
    entry = await AuditEntry.get(action="user.oidc_link")
    assert entry.object_id == str(user.id) and entry.after["email"] == "li@example.cn"
    page = await sso.get("/account")
    assert user.organisation_id and "尚未加入单位" not in page.text
    # The password still works too.
    await sso.submit("/logout")
    await sso.login(user.email, PASSWORD)


async def test_unverified_email_neither_links_nor_creates(sso, provider):
    user = await make_user(Role.SUBMITTER, email="victim@example.cn")
    response = await sign_in_via_provider(sso, provider, "sub-attacker", email="victim@example.cn",
                                          email_verified=False)
    assert response.status_code == 400
    assert "未提供已验证的电子邮箱" in response.text
    await user.refresh_from_db()
    assert user.oidc_subject is None
    assert await User.all().count() == 1
    assert (await sso.get("/account")).status_code == 303  # not signed in
    # No e-mail claim at all (the provider's default identity has none verified) is refused too.
    response = await sign_in_via_provider(sso, provider, "sub-no-mail", name="无邮箱")
    assert response.status_code == 400 and await User.all().count() == 1


async def test_email_linked_to_another_subject_is_refused(sso, provider):
    await make_user(Role.BIDDER, email="taken@example.cn", oidc_subject="sub-first")
    response = await sign_in_via_provider(sso, provider, "sub-second", email="taken@example.cn", email_verified=True)
    assert response.status_code == 400 and "已关联另一个统一身份认证账号" in response.text
    assert await User.filter(oidc_subject="sub-second").count() == 0


async def test_deactivated_account_cannot_sign_in(sso, provider):
    await make_user(Role.BIDDER, email="gone@example.cn", oidc_subject="sub-gone", is_active=False)
    response = await sign_in_via_provider(sso, provider, "sub-gone", email="gone@example.cn", email_verified=True)
    assert response.status_code == 400 and "已停用" in response.text
    assert (await sso.get("/account")).status_code == 303
    # Nor is a deactivated account linked to a new subject through its e-mail.
    dormant = await make_user(Role.BIDDER, email="dormant@example.cn", is_active=False)
    response = await sign_in_via_provider(sso, provider, "sub-dormant", email="dormant@example.cn", email_verified=True)
    assert response.status_code == 400 and "已停用" in response.text
    await dormant.refresh_from_db()
    assert dormant.oidc_subject is None
    assert not await AuditEntry.filter(action="user.oidc_link").exists()


async def test_next_is_kept_and_only_local(sso, provider):
    set_identity(provider, "sub-next", email="next@example.cn", email_verified=True)
    callback = authorize_at_provider(await provider_redirect(sso, "/oidc/login?next=/inbox"), "sub-next")
    response = await sso.get(callback)
    assert response.headers["location"] == "/inbox"
    await sso.submit("/logout")
    callback = authorize_at_provider(await provider_redirect(sso, "/oidc/login?next=//evil.example/x"), "sub-next")
    assert (await sso.get(callback)).headers["location"] == "/account"


async def test_sign_in_starts_a_new_session(sso, provider):
    before = await sso.csrf()
    await sign_in_via_provider(sso, provider, "sub-session", email="session@example.cn", email_verified=True)
    assert await sso.csrf() != before


async def test_tampered_state_is_a_clear_400(sso, provider):
    set_identity(provider, "sub-state", email="state@example.cn", email_verified=True)
    callback = authorize_at_provider(await provider_redirect(sso), "sub-state")
    parts = urlsplit(callback)
    query = parse_qs(parts.query)
    forged = f"/oidc/callback?code={query['code'][0]}&state=forged-{query['state'][0]}"
    response = await sso.get(forged)
    assert response.status_code == 400
    assert "登录请求已失效或来源无法验证" in response.text
    assert await User.filter(oidc_subject="sub-state").count() == 0


async def test_callback_from_another_browser_is_refused(sso, provider, db, sso_settings):
    """The state lives in the session of the browser that started: a stolen callback URL fails."""
    set_identity(provider, "sub-stolen", email="stolen@example.cn", email_verified=True)
    callback = authorize_at_provider(await provider_redirect(sso), "sub-stolen")
    app = create_app(sso_settings, manage_orm=False)
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        response = await other.get(callback)
    assert response.status_code == 400
    assert await User.filter(oidc_subject="sub-stolen").count() == 0


async def test_replayed_callback_is_refused(sso, provider):
    set_identity(provider, "sub-replay", email="replay@example.cn", email_verified=True)
    callback = authorize_at_provider(await provider_redirect(sso), "sub-replay")
    assert (await sso.get(callback)).status_code == 303
    await sso.submit("/logout")
    assert (await sso.get(callback)).status_code == 400


async def test_provider_denial_is_a_clear_400(sso, provider):
    callback = authorize_at_provider(await provider_redirect(sso), "", action="deny")
    assert "error=access_denied" in callback
    response = await sso.get(callback)
    assert response.status_code == 400
    assert "统一身份认证未完成" in response.text and "access_denied" in response.text
    assert await User.all().count() == 0


async def test_bad_code_is_a_clear_400(sso, provider):
    callback = authorize_at_provider(await provider_redirect(sso), "sub-code")
    query = parse_qs(urlsplit(callback).query)
    response = await sso.get(f"/oidc/callback?code=not-a-real-code&state={query['state'][0]}")
    assert response.status_code == 400
    assert await User.all().count() == 0


async def test_unreachable_provider_is_an_error_page_not_a_500(db, settings):
    broken = settings.with_overrides(oidc_issuer="http://127.0.0.1:9", oidc_client_id=CLIENT_ID)
    app = create_app(broken, manage_orm=False)
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        response = await http.get("/oidc/login")
    assert response.status_code == 502
    assert "暂时无法访问" in response.text


@pytest.fixture
def misnamed_provider():
    """A real provider whose discovery document names another issuer than the URL it is at."""
    provider_app = oidc_provider_mock.app()

    def renamed(environ, start_response):
        environ["HTTP_HOST"] = "sso.example"
        return provider_app(environ, start_response)

    server = werkzeug.serving.make_server("127.0.0.1", 0, renamed, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


async def test_issuer_mismatch_is_refused(db, settings, misnamed_provider):
    announced = httpx.get(f"{misnamed_provider}/.well-known/openid-configuration").json()["issuer"]
    assert announced == "http://sso.example"
    app = create_app(settings.with_overrides(oidc_issuer=misnamed_provider, oidc_client_id=CLIENT_ID),
                     manage_orm=False)
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        response = await http.get("/oidc/login")
    assert response.status_code == 502
    assert "配置有误" in response.text


# -- choosing an organisation afterwards --------------------------------------------------------

async def test_new_sso_account_joins_an_approved_organisation(sso, provider):
    org = await make_org(name="清华大学测试团队所在单位")
    await sign_in_via_provider(sso, provider, "sub-join", email="join@example.cn", email_verified=True)
    page = await sso.get("/account/organisation")
    assert page.status_code == 200 and org.name in page.text
    response = await sso.submit("/account/organisation", {"org_mode": "existing", "organisation_id": str(org.id)})
    assert response.status_code == 303 and response.headers["location"] == "/account"
    user = await User.get(oidc_subject="sub-join")
    assert user.organisation_id == org.id
    assert await AuditEntry.filter(action="user.join_organisation", object_id=str(user.id)).exists()
    # Once in an organisation, the page sends them back and a second choice changes nothing.
    other = await make_org()
    assert (await sso.get("/account/organisation")).headers["location"] == "/account"
    await sso.submit("/account/organisation", {"org_mode": "existing", "organisation_id": str(other.id)})
    await user.refresh_from_db()
    assert user.organisation_id == org.id


async def test_new_sso_account_registers_a_new_organisation(sso, provider):
    organiser = await make_user(Role.ORGANISER)
    await sign_in_via_provider(sso, provider, "sub-neworg", email="neworg@example.cn", email_verified=True)
    code = credit_code()
    response = await sso.submit("/account/organisation", {
        "org_mode": "new", "org_name": "深圳某碳捕集科技有限公司", "org_type": "enterprise",
        "org_region": "440300", "org_credit_code": code,
    })
    assert response.status_code == 303
    org = await Organisation.get(name="深圳某碳捕集科技有限公司")
    assert org.status == OrgStatus.PENDING and org.credit_code == code
    assert (await User.get(oidc_subject="sub-neworg")).organisation_id == org.id
    assert await organiser.notifications.all().count() == 1


async def test_organisation_choice_errors_keep_input_and_change_nothing(sso, provider):
    await sign_in_via_provider(sso, provider, "sub-bad", email="bad@example.cn", email_verified=True)
    pending = await make_org(status=OrgStatus.PENDING)
    response = await sso.submit("/account/organisation", {"org_mode": "existing", "organisation_id": str(pending.id)})
    assert response.status_code == 400 and "请选择已登记的单位" in response.text
    response = await sso.submit("/account/organisation", {
        "org_mode": "new", "org_name": "某公司", "org_type": "enterprise", "org_region": "440300",
        "org_credit_code": "91110000100000000X",
    })
    assert response.status_code == 400 and "统一社会信用代码无效" in response.text
    assert 'value="某公司"' in response.text
    assert (await User.get(oidc_subject="sub-bad")).organisation_id is None
    assert not await Organisation.filter(name="某公司").exists()


async def test_choose_organisation_needs_sign_in(client):
    response = await client.get("/account/organisation")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
