from challenge.accounts.models import LoginAttempt, Organisation, OrgStatus, Role, User
from challenge.audit.models import AuditEntry
from challenge.mail.models import OutboxMessage
from factories import PASSWORD, credit_code, make_org, make_organiser, make_user


async def test_sign_in_and_out(client):
    user = await make_user(Role.SUBMITTER)
    response = await client.login(user.email)
    assert response.headers["location"] == "/account"
    page = await client.get("/account")
    assert page.status_code == 200 and user.email in page.text
    response = await client.submit("/logout")
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 303


async def test_wrong_password_keeps_email_and_says_why(client):
    user = await make_user(Role.SUBMITTER)
    response = await client.submit("/login", {"email": user.email, "password": "wrong-password-1"})
    assert response.status_code == 400
    assert "邮箱或密码不正确" in response.text
    assert f'value="{user.email}"' in response.text
    assert "wrong-password-1" not in response.text


async def test_repeated_failures_are_throttled(client, settings):
    user = await make_user(Role.SUBMITTER)
    for _ in range(settings.login_max_failures):
        await client.submit("/login", {"email": user.email, "password": "wrong-password-1"})
    response = await client.submit("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "登录失败次数过多" in response.text
    assert await LoginAttempt.filter(email=user.email).count() == settings.login_max_failures


async def test_post_without_csrf_token_is_refused(client):
    user = await make_user(Role.SUBMITTER)
    response = await client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "challenge_session" not in response.headers.get("set-cookie", "") or "uid" not in response.text


async def test_session_cookie_flags(client):
    response = await client.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


async def test_sign_in_starts_a_new_session(client):
    user = await make_user(Role.SUBMITTER)
    before = await client.csrf()
    await client.login(user.email)
    after = await client.csrf()
    assert before != after


async def test_register_with_new_organisation_waits_for_approval(client):
    code = credit_code()
    response = await client.submit("/register", {
        "role": "submitter", "name": "张三", "email": "zhang@example.cn", "phone": "13800000000",
        "password": "a-good-passw0rd", "password_confirm": "a-good-passw0rd", "org_mode": "new",
        "org_name": "苏州某节能科技有限公司", "org_type": "enterprise", "org_region": "320500",
        "org_credit_code": code, "agree": "1",
    })
    assert response.status_code == 200 and "请查收确认邮件" in response.text, response.text
    org = await Organisation.get(name="苏州某节能科技有限公司")
    assert org.status == OrgStatus.PENDING and org.credit_code == code
    user = await User.get(email="zhang@example.cn")
    assert user.is_submitter and not user.is_bidder and user.password_hash.startswith("$argon2id$")
    # The registrant is the new organisation's first member and manager.
    assert user.organisation_id == org.id and user.is_org_manager and not user.email_confirmed
    assert await AuditEntry.filter(action="organisation.register").exists()


async def test_register_rejects_bad_credit_code_and_keeps_input(client):
    code = credit_code()
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = await client.submit("/register", {
        "role": "bidder", "name": "李四", "email": "li@example.cn", "password": "a-good-passw0rd",
        "password_confirm": "a-good-passw0rd", "org_mode": "new", "org_name": "某大学",
        "org_type": "university", "org_region": "110000", "org_credit_code": bad, "agree": "1",
    })
    assert response.status_code == 400
    assert "统一社会信用代码无效" in response.text
    assert 'value="某大学"' in response.text and 'value="li@example.cn"' in response.text
    assert not await User.filter(email="li@example.cn").exists()
    assert not await Organisation.filter(name="某大学").exists()


async def test_register_missing_fields(client):
    response = await client.submit("/register", {"role": "submitter", "org_mode": "existing"})
    assert response.status_code == 400
    for field in ("email", "name", "password", "organisation_id", "agree"):
        assert f'id="error-{field}"' in response.text


async def test_organiser_approves_organisation(client, make_client):
    organiser = await make_organiser()
    org = await make_org(status=OrgStatus.PENDING)
    member = await make_user(Role.SUBMITTER, organisation=org)
    await client.login(organiser.email)
    response = await client.submit(f"/admin/organisations/{org.id}/review", {"decision": "approve"})
    assert response.status_code == 303
    await org.refresh_from_db()
    assert org.status == OrgStatus.APPROVED
    assert await OutboxMessage.filter(to_address=member.email).exists()


async def test_only_organisers_review_organisations(client):
    org = await make_org(status=OrgStatus.PENDING)
    submitter = await make_user(Role.SUBMITTER)
    anonymous = await client.submit(f"/admin/organisations/{org.id}/review", {"decision": "approve"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await client.login(submitter.email)
    response = await client.submit(f"/admin/organisations/{org.id}/review", {"decision": "approve"})
    assert response.status_code == 403
    await org.refresh_from_db()
    assert org.status == OrgStatus.PENDING


async def test_password_reset_link_is_single_use(client, settings):
    user = await make_user(Role.BIDDER)
    await client.submit("/password/forgot", {"email": user.email})
    mail = await OutboxMessage.get(to_address=user.email)
    link = next(word for word in mail.body.split() if "/password/reset/" in word)
    path = link.replace("http://testserver", "")
    response = await client.submit(path, {"new_password": "brand-new-pass-9", "new_password_confirm": "brand-new-pass-9"})
    assert response.status_code == 303
    assert (await client.get(path)).status_code == 404
    await client.login(user.email, "brand-new-pass-9")


async def test_password_change_signs_out_other_sessions(client, make_client):
    user = await make_user(Role.BIDDER)
    other = make_client()
    await other.login(user.email)
    await client.login(user.email)
    response = await client.submit("/account/password", {
        "current_password": PASSWORD, "new_password": "another-pass-77", "new_password_confirm": "another-pass-77",
    })
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 200
    assert (await other.get("/account")).status_code == 303


async def test_open_redirect_is_refused(client):
    user = await make_user(Role.BIDDER)
    response = await client.submit("/login", {"email": user.email, "password": PASSWORD, "next": "//evil.example/x"})
    assert response.headers["location"] == "/account"


async def test_language_chosen_before_sign_in_is_kept(client):
    user = await make_user(Role.BIDDER)
    await client.submit("/locale", {"locale": "en", "next": "/login"})
    await client.login(user.email)
    assert (await User.get(id=user.id)).locale == "en"
    assert 'lang="en"' in (await client.get("/account")).text
