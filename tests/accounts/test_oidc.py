"""Single sign-on against a real, certified OpenID provider (panva/oidc-provider on Node.js).

The provider runs as a subprocess on a free local port (tests/oidc_provider.py). The test plays
the browser: it follows the app's redirect to the provider, signs in on the provider's own
login page and consents on its consent page, then follows the provider's redirect back to
/oidc/callback on the app (in-process ASGI client).
"""

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from challenge.accounts.models import LinkedIdentity, Membership, MembershipStatus, Organisation, OrgStatus, Role, User
from challenge.accounts.oidc import SignInFailed, check_audience
from challenge.app import create_app
from challenge.audit.models import AuditEntry
from conftest import Client
from factories import PASSWORD, credit_code, make_org, make_organiser, make_user
from oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, node_available, provider, walk_provider  # noqa: F401


@pytest.fixture
def sso_settings(settings, provider):
    return settings.with_overrides(oidc_issuer=provider.url, oidc_client_id=CLIENT_ID,
                                   oidc_client_secret=CLIENT_SECRET, oidc_label="测试统一认证")


@pytest.fixture
async def sso(db, sso_settings):
    app = create_app(sso_settings, manage_orm=False)
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


async def provider_redirect(sso: Client, path: str = "/oidc/login") -> str:
    response = await sso.get(path)
    assert response.status_code == 302, response.text[:500]
    return response.headers["location"]


async def sign_in_via_provider(sso: Client, provider, sub: str, **claims) -> httpx.Response:
    if claims:
        provider.set_identity(sub, **claims)
    callback = walk_provider(await provider_redirect(sso), sub)
    assert callback.startswith("http://testserver/oidc/callback?")
    return await sso.get(callback)


async def test_login_page_shows_the_button_only_when_configured(sso, client):
    page = await sso.get("/login")
    assert 'href="/oidc/login"' in page.text and "使用测试统一认证登录" in page.text
    page = await sso.get("/login?next=/inbox")
    assert 'href="/oidc/login?next=/inbox"' in page.text
    plain = await client.get("/login")
    assert "/oidc/login" not in plain.text
    assert (await client.get("/oidc/login")).status_code == 404
    assert (await client.get("/oidc/callback?code=x&state=y")).status_code == 404


async def test_redirect_carries_state_nonce_and_pkce(sso, provider):
    location = await provider_redirect(sso)
    assert location.startswith(f"{provider.url}/auth?")
    query = parse_qs(urlsplit(location).query)
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/oidc/callback"]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    second = parse_qs(urlsplit(await provider_redirect(sso)).query)
    assert second["state"] != query["state"] and second["nonce"] != query["nonce"]


async def test_new_person_gets_a_passwordless_bidder_account_without_organisation(sso, provider):
    response = await sign_in_via_provider(sso, provider, "sub-new-1", email="Wang.Wu@Example.cn",
                                          email_verified=True, name="王五")
    assert response.status_code == 303 and response.headers["location"] == "/account"
    identity = await LinkedIdentity.get(issuer=provider.url, subject="sub-new-1").select_related("user")
    user = identity.user
    assert user.email == "wang.wu@example.cn" and user.name == "王五"
    assert user.password_hash == "" and user.organisation_id is None and user.roles == [Role.BIDDER]
    assert (await AuditEntry.get(action="user.oidc_create")).after["subject"] == "sub-new-1"
    account = await sso.get("/account")
    assert account.status_code == 200 and "尚未加入单位" in account.text and "尚未设置密码" in account.text
    assert "统一身份认证" in account.text and provider.url in account.text
    await sso.submit("/logout")
    refused = await sso.submit("/login", {"email": "wang.wu@example.cn", "password": "any-password-1"})
    assert refused.status_code == 400 and "邮箱或密码不正确" in refused.text


async def test_returning_person_is_recognised_by_issuer_and_subject(sso, provider):
    await sign_in_via_provider(sso, provider, "sub-back", email="back@example.cn", email_verified=True)
    await sso.post("/logout", headers={"X-CSRF-Token": await sso.csrf()})
    response = await sign_in_via_provider(sso, provider, "sub-back", email="moved@example.cn", email_verified=True)
    assert response.status_code == 303
    assert await LinkedIdentity.filter(subject="sub-back").count() == 1
    assert not await User.filter(email="moved@example.cn").exists()
    assert "back@example.cn" in (await sso.get("/account")).text


async def test_an_identity_with_a_local_accounts_email_does_not_take_it_over(sso, provider):
    """`challenge create-admin --email boss@example.org`; "boss" at the provider is not the organiser."""
    boss = await make_organiser(email="boss@example.org")
    response = await sign_in_via_provider(sso, provider, "boss", email="boss@example.org", email_verified=True)
    assert response.status_code == 303 and response.headers["location"] == "/oidc/link"
    assert (await sso.get("/account")).status_code == 303  # not signed in
    assert (await sso.get("/admin/")).status_code == 303
    assert not await LinkedIdentity.exists()
    page = await sso.get("/oidc/link")
    assert page.status_code == 200 and "boss@example.org" in page.text and "该账户的密码" in page.text
    wrong = await sso.submit("/oidc/link", {"password": "not-the-password-1"})
    assert wrong.status_code == 400 and not await LinkedIdentity.exists()
    assert (await sso.get("/account")).status_code == 303
    # The owner proves the account with its password: linked, and signed in.
    response = await sso.submit("/oidc/link", {"password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/account"
    identity = await LinkedIdentity.get(subject="boss")
    assert identity.user_id == boss.id and identity.issuer == provider.url
    assert (await AuditEntry.get(action="user.oidc_link")).object_id == str(boss.id)
    assert (await sso.get("/admin/")).status_code == 200
    # Next time the identity signs straight in.
    await sso.post("/logout", headers={"X-CSRF-Token": await sso.csrf()})
    response = await sign_in_via_provider(sso, provider, "boss")
    assert response.status_code == 303 and response.headers["location"] == "/account"


async def test_the_link_page_can_be_declined_and_needs_a_pending_identity(sso, provider):
    await make_user(Role.SUBMITTER, email="li@example.cn")
    assert (await sso.get("/oidc/link")).status_code == 404
    await sign_in_via_provider(sso, provider, "sub-li", email="li@example.cn", email_verified=True)
    response = await sso.submit("/oidc/link", {"action": "cancel"})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert (await sso.get("/oidc/link")).status_code == 404
    assert not await LinkedIdentity.exists()


async def test_unverified_email_neither_links_nor_creates(sso, provider):
    await make_user(Role.SUBMITTER, email="victim@example.cn")
    response = await sign_in_via_provider(sso, provider, "sub-attacker", email="victim@example.cn",
                                          email_verified=False)
    assert response.status_code == 400 and "未提供已验证的电子邮箱" in response.text
    response = await sign_in_via_provider(sso, provider, "sub-no-mail", name="无邮箱")
    assert response.status_code == 400
    assert await User.all().count() == 1 and not await LinkedIdentity.exists()


async def test_deactivated_account_cannot_sign_in(sso, provider):
    user = await make_user(Role.BIDDER, email="gone@example.cn", is_active=False)
    await LinkedIdentity.create(user=user, issuer=provider.url, subject="sub-gone", email=user.email)
    response = await sign_in_via_provider(sso, provider, "sub-gone", email="gone@example.cn", email_verified=True)
    assert response.status_code == 400 and "已停用" in response.text
    await make_user(Role.BIDDER, email="dormant@example.cn", is_active=False)
    response = await sign_in_via_provider(sso, provider, "sub-dormant", email="dormant@example.cn",
                                          email_verified=True)
    assert response.status_code == 400 and "已停用" in response.text


async def test_next_is_kept_and_only_local(sso, provider):
    provider.set_identity("sub-next", email="next@example.cn", email_verified=True)
    callback = walk_provider(await provider_redirect(sso, "/oidc/login?next=/inbox"), "sub-next")
    assert (await sso.get(callback)).headers["location"] == "/inbox"
    await sso.post("/logout", headers={"X-CSRF-Token": await sso.csrf()})
    callback = walk_provider(await provider_redirect(sso, "/oidc/login?next=//evil.example/x"), "sub-next")
    assert (await sso.get(callback)).headers["location"] == "/account"


async def test_sign_in_starts_a_new_session(sso, provider):
    before = await sso.csrf()
    await sign_in_via_provider(sso, provider, "sub-session", email="session@example.cn", email_verified=True)
    assert await sso.csrf() != before


async def test_tampered_state_is_a_clear_400(sso, provider):
    provider.set_identity("sub-state", email="state@example.cn", email_verified=True)
    callback = walk_provider(await provider_redirect(sso), "sub-state")
    query = parse_qs(urlsplit(callback).query)
    response = await sso.get(f"/oidc/callback?code={query['code'][0]}&state=forged-{query['state'][0]}")
    assert response.status_code == 400 and "登录请求已失效或来源无法验证" in response.text
    assert not await LinkedIdentity.exists()


async def test_callback_from_another_browser_is_refused(sso, provider, sso_settings):
    provider.set_identity("sub-stolen", email="stolen@example.cn", email_verified=True)
    callback = walk_provider(await provider_redirect(sso), "sub-stolen")
    app = create_app(sso_settings, manage_orm=False)
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        assert (await other.get(callback)).status_code == 400
    assert not await LinkedIdentity.exists()


async def test_replayed_callback_is_refused(sso, provider):
    provider.set_identity("sub-replay", email="replay@example.cn", email_verified=True)
    callback = walk_provider(await provider_redirect(sso), "sub-replay")
    assert (await sso.get(callback)).status_code == 303
    await sso.post("/logout", headers={"X-CSRF-Token": await sso.csrf()})
    assert (await sso.get(callback)).status_code == 400


async def test_provider_denial_is_a_clear_400_without_the_providers_words(sso, provider):
    callback = walk_provider(await provider_redirect(sso), "sub-deny", deny=True)
    assert "error=access_denied" in callback
    response = await sso.get(callback)
    assert response.status_code == 400 and "统一身份认证未完成" in response.text
    assert "access_denied" not in response.text and "aborted" not in response.text
    assert await User.all().count() == 0


async def test_the_callbacks_error_text_is_never_echoed(sso, provider):
    state = parse_qs(urlsplit(await provider_redirect(sso)).query)["state"][0]
    response = await sso.get("/oidc/callback", params={
        "error": "server_error<b>", "error_description": "请致电 400-000-0000 领取补贴", "state": state})
    assert response.status_code == 400
    assert "400-000-0000" not in response.text and "server_error" not in response.text


async def test_bad_code_is_a_clear_400(sso, provider):
    provider.set_identity("sub-code", email="code@example.cn", email_verified=True)
    callback = walk_provider(await provider_redirect(sso), "sub-code")
    state = parse_qs(urlsplit(callback).query)["state"][0]
    response = await sso.get(f"/oidc/callback?code=not-a-real-code&state={state}")
    assert response.status_code == 400 and await User.all().count() == 0


def test_the_audience_must_be_this_client():
    check_audience({"aud": CLIENT_ID}, CLIENT_ID)
    check_audience({"aud": [CLIENT_ID], "azp": CLIENT_ID}, CLIENT_ID)
    check_audience({"aud": [CLIENT_ID, "api"], "azp": CLIENT_ID}, CLIENT_ID)
    for claims in ({"aud": "other-client", "azp": CLIENT_ID},  # what Authlib alone lets through
                   {"aud": ["other-client"], "azp": CLIENT_ID},
                   {"aud": [CLIENT_ID, "other-client"]},
                   {"aud": [CLIENT_ID, "other-client"], "azp": "other-client"},
                   {"aud": CLIENT_ID, "azp": "other-client"},
                   {}):
        with pytest.raises(SignInFailed):
            check_audience(claims, CLIENT_ID)


async def test_sign_out_ends_the_session_at_the_provider_too(sso, provider):
    await sign_in_via_provider(sso, provider, "sub-out", email="out@example.cn", email_verified=True)
    response = await sso.submit("/logout")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{provider.url}/session/end?")
    query = parse_qs(urlsplit(location).query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/"] and query["id_token_hint"][0].count(".") == 2
    assert (await sso.get("/account")).status_code == 303
    # The provider accepts the hint and sends the browser back to the app after its own confirmation.
    with httpx.Client(timeout=10) as browser:
        page = browser.get(location)
        assert page.status_code == 200
        form = page.text
        action = re.search(r'<form[^>]*action="([^"]+)"', form).group(1)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        back = browser.post(httpx.URL(location).join(action), data={**fields, "logout": "yes"})
        assert back.status_code in {302, 303} and back.headers["location"] == "http://testserver/"
    # A password sign-out has no provider session to end.
    user = await make_user(Role.BIDDER)
    await sso.login(user.email)
    assert (await sso.submit("/logout")).headers["location"] == "/"


async def test_unreachable_provider_is_an_error_page_not_a_500(db, settings):
    broken = settings.with_overrides(oidc_issuer="http://127.0.0.1:9", oidc_client_id=CLIENT_ID)
    app = create_app(broken, manage_orm=False)
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        response = await http.get("/oidc/login")
    assert response.status_code == 502 and "暂时无法访问" in response.text


async def test_issuer_mismatch_is_refused(db, settings, tmp_path):
    misnamed = Provider(tmp_path, issuer="http://sso.example")
    try:
        assert httpx.get(f"{misnamed.url}/.well-known/openid-configuration").json()["issuer"] == "http://sso.example"
        app = create_app(settings.with_overrides(oidc_issuer=misnamed.url, oidc_client_id=CLIENT_ID),
                         manage_orm=False)
        async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            response = await http.get("/oidc/login")
        assert response.status_code == 502 and "配置有误" in response.text
    finally:
        misnamed.stop()


# -- linked identities on the account page -------------------------------------------------------

async def test_an_identity_can_be_removed_but_not_the_last_way_to_sign_in(sso, provider):
    await sign_in_via_provider(sso, provider, "sub-only", email="only@example.cn", email_verified=True)
    identity = await LinkedIdentity.get(subject="sub-only")
    response = await sso.submit(f"/account/identities/{identity.id}/remove")
    assert response.status_code == 303 and await LinkedIdentity.filter(id=identity.id).exists()
    assert "唯一的登录方式" in (await sso.get("/account")).text
    # With a password, the identity may go.
    user = await make_user(Role.BIDDER, email="both@example.cn")
    other = await LinkedIdentity.create(user=user, issuer=provider.url, subject="sub-both", email=user.email)
    await sso.post("/logout", headers={"X-CSRF-Token": await sso.csrf()})
    await sso.login(user.email)
    page = await sso.get("/account")
    assert f"{provider.url} · " in page.text and "取消关联" in page.text
    # Someone else's identity is not found.
    assert (await sso.submit(f"/account/identities/{identity.id}/remove")).status_code == 404
    assert (await sso.submit(f"/account/identities/{other.id}/remove")).status_code == 303
    assert not await LinkedIdentity.filter(id=other.id).exists()
    assert await AuditEntry.filter(action="user.oidc_unlink").exists()


# -- choosing an organisation afterwards --------------------------------------------------------

async def test_new_sso_account_asks_to_join_an_approved_organisation(sso, provider):
    org = await make_org(name="清华大学测试团队所在单位")
    manager = await make_user(Role.BIDDER, organisation=org, is_org_manager=True)
    await sign_in_via_provider(sso, provider, "sub-join", email="join@example.cn", email_verified=True)
    page = await sso.get("/account/organisation")
    assert page.status_code == 200 and org.name in page.text
    response = await sso.submit("/account/organisation", {"org_mode": "existing", "organisation_id": str(org.id)})
    assert response.status_code == 303 and response.headers["location"] == "/organisation"
    user = await User.get(email="join@example.cn")
    assert user.organisation_id is None  # a request, not membership
    request = await Membership.get(user_id=user.id)
    assert request.status == MembershipStatus.PENDING and request.organisation_id == org.id
    assert await manager.notifications.filter(subject__contains="申请加入").exists()
    # While it waits, the choice page sends them to their request, and a second choice changes nothing.
    assert (await sso.get("/account/organisation")).headers["location"] == "/organisation"
    other = await make_org()
    await sso.submit("/account/organisation", {"org_mode": "existing", "organisation_id": str(other.id)})
    assert await Membership.filter(user_id=user.id).count() == 1


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
    user = await User.get(email="neworg@example.cn")
    assert user.organisation_id == org.id and user.is_org_manager
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
    assert (await User.get(email="bad@example.cn")).organisation_id is None
    assert not await Organisation.filter(name="某公司").exists()
    assert not await Membership.exists()


async def test_choose_organisation_needs_sign_in(client):
    response = await client.get("/account/organisation")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
