"""The English catalog: complete, well-formed, and what the pages actually show.

The source strings are Simplified Chinese; English comes from
challenge/locale/en/LC_MESSAGES/messages.po. These tests extract the messages from the code
the same way `pybabel extract -F babel.cfg` does, so a new `_("...")` without an English
translation fails here with the list of what is missing.
"""

import re
from collections import Counter
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
import pytest

from challenge.catalog import regions
from challenge.catalog.models import Domain
from challenge.settings import LOCALE_DIR
from factories import make_challenge, make_org, make_user

pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parents[2]
PO_PATH = LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po"
SCANNED_DIRS = {"challenge", "templates"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")
# Han characters and CJK / full-width punctuation: none of it belongs in an English page.
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
# Chinese that English pages may legitimately contain: the language's own name in the language
# switcher and the decorative brand glyph (aria-hidden).
ALLOWED_CJK = {"简体中文", "绿"}
NAV_LABELS_ZH = ["登录", "注册", "榜单", "公示与公告", "技术需求", "我的申报", "评审任务", "消息", "退出", "语言",
                 "跳到主要内容"]


def load_catalog():
    with open(PO_PATH, "rb") as handle:
        return read_po(handle, locale="en")


def code_messages() -> dict[str, str]:
    """Every msgid in the code now, with one place it comes from, extracted as babel.cfg says."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)

    def directory_filter(path: str) -> bool:
        # Like `pybabel extract --ignore-dirs ".* __pycache__"`: babel's default filter would
        # also skip directories starting with "_", and so miss templates/_macros.
        relative = Path(path).relative_to(ROOT)
        name = relative.name
        return relative.parts[0] in SCANNED_DIRS and not name.startswith(".") and name != "__pycache__"

    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS, directory_filter=directory_filter,
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_babel_cfg_scans_python_and_every_template():
    """The macros live in templates/_macros: they must be scanned too."""
    messages = code_messages()
    places = {place.split(":")[0] for place in messages.values()}
    assert any(place.startswith("templates/_macros/") for place in places), sorted(places)
    assert any(place.startswith("templates/") and "/" not in place[len("templates/"):] for place in places)
    assert any(place.startswith("challenge/") and place.endswith(".py") for place in places)
    assert len(messages) > 1000


def test_catalog_parses_and_every_entry_is_translated():
    catalog = load_catalog()
    entries = [message for message in catalog if message.id]
    assert len(entries) > 1000
    untranslated = [message.id for message in entries if not message.string]
    fuzzy = [message.id for message in entries if message.fuzzy]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:20]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy[:20]}"
    assert not catalog.obsolete, f"obsolete entries left in the catalog: {list(catalog.obsolete)[:10]}"
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    assert catalog.locale_identifier == "en"


def test_translations_are_english_not_copies():
    """A msgstr is English: no Chinese characters or full-width punctuation copied over."""
    leftovers = {message.id: message.string for message in load_catalog()
                 if message.id and CJK.search(message.string)}
    assert not leftovers, "Chinese left in English translations:\n" + "\n".join(
        f"  {msgid!r} -> {text!r}" for msgid, text in leftovers.items())


def test_every_message_in_the_code_has_an_english_translation():
    translated = {message.id for message in load_catalog() if message.id and message.string}
    missing = {msgid: place for msgid, place in code_messages().items() if msgid not in translated}
    assert not missing, (
        f"{len(missing)} message(s) in the code have no English translation; run the commands under "
        "'Translations' in README.md and translate them:\n"
        + "\n".join(f"  {place}: {msgid!r}" for msgid, place in sorted(missing.items(), key=lambda kv: kv[1]))
    )


def test_placeholders_match():
    """Same named placeholders (and literal %%) in msgstr as in msgid, and formatting works."""
    problems = []
    for message in load_catalog():
        if not message.id:
            continue
        source, text = message.id, message.string
        if Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(text)):
            problems.append(f"placeholders differ: {source!r} -> {text!r}")
            continue
        names = {name for name in PLACEHOLDER.findall(source) if name}
        stray = "%" in PLACEHOLDER.sub("", text) and "%" not in PLACEHOLDER.sub("", source)
        if stray:
            problems.append(f"stray %: {source!r} -> {text!r}")
            continue
        if names or "%%" in source:
            # Templates (newstyle gettext) always %-format; Python code formats when given values.
            try:
                text % {name: "x" for name in names}
            except (KeyError, ValueError, TypeError) as error:
                problems.append(f"does not format ({error}): {source!r} -> {text!r}")
    assert not problems, "\n".join(problems)


def test_catalog_compiles():
    import io

    compiled = io.BytesIO()
    write_mo(compiled, load_catalog())
    assert compiled.tell() > 10_000


# -- over HTTP -----------------------------------------------------------------------------------


def navigation(html: str) -> str:
    match = re.search(r'<header class="site-header">.*?</header>', html, re.S)
    assert match, "site header not found"
    return match.group(0)


def stray_chinese(html: str, allowed: set[str]) -> set[str]:
    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return set(CJK.findall(html)) - allowed


def assert_english_chrome(html: str) -> None:
    assert '<html lang="en">' in html
    header = navigation(html)
    assert "Green Technology Open Call Platform" in header
    assert ">Challenges<" in header
    assert "Notices and announcements" in header
    left = [label for label in NAV_LABELS_ZH if label in header]
    assert not left, f"Chinese labels left in the navigation: {left}"
    assert "All times are Beijing time" in html


async def switch(client, locale: str, next_url: str = "/") -> None:
    response = await client.submit("/locale", {"locale": locale, "next": next_url})
    assert response.status_code == 303
    assert response.headers["location"] == next_url


async def test_public_pages_in_english_and_back(client):
    region_names = set(regions.regions().values())
    before = await client.get("/")
    assert '<html lang="zh-CN">' in before.text
    assert "登录" in navigation(before.text) and "Sign in" not in before.text

    await switch(client, "en")

    home = await client.get("/")
    assert home.status_code == 200
    assert_english_chrome(home.text)
    assert "Sign in" in home.text and "Register" in home.text
    assert "Green Technology Innovation Open Call (Jiebang Guashuai) Platform" in home.text
    assert "Search challenges" in home.text and "Browse by domain" in home.text
    assert not stray_chinese(home.text, ALLOWED_CJK)

    listing = await client.get("/challenges")
    assert listing.status_code == 200
    assert_english_chrome(listing.text)
    assert "Challenges and race tracks" in listing.text
    assert "Filter challenges" in listing.text and "All domains" in listing.text and "Nationwide" in listing.text
    # Province names in the region filter are data from the GB/T 2260 table, in Chinese.
    assert not stray_chinese(listing.text, ALLOWED_CJK | region_names)

    login = await client.get("/login")
    assert login.status_code == 200
    assert_english_chrome(login.text)
    for text in ("Password", "Forgot your password?", "No account yet?", "Register an account"):
        assert text in login.text
    assert not stray_chinese(login.text, ALLOWED_CJK)

    await switch(client, "zh_CN")
    back = await client.get("/login")
    assert '<html lang="zh-CN">' in back.text
    assert "登录" in navigation(back.text) and "忘记密码？" in back.text
    assert "Sign in" not in back.text and "Forgot your password?" not in back.text


async def test_signed_in_pages_in_english_and_the_choice_is_kept(client, make_client):
    organisation = await make_org(name="Suzhou Low-Carbon Works")
    user = await make_user(organisation=organisation, name="Li Ming")
    await client.login(user.email)
    await switch(client, "en", "/account")
    await user.refresh_from_db()
    assert user.locale == "en"

    account = await client.get("/account")
    assert account.status_code == 200
    assert_english_chrome(account.text)
    for text in ("My account", "Basic information", "Change password", "Current password", "Sign out",
                 "Messages", "Enterprise", "Unified social credit code"):
        assert text in account.text, text
    assert "我的账户" not in account.text and "修改密码" not in account.text
    assert not stray_chinese(account.text, ALLOWED_CJK | set(regions.regions().values()))

    inbox = await client.get("/inbox")
    assert inbox.status_code == 200
    assert_english_chrome(inbox.text)
    assert "No messages yet." in inbox.text

    # The choice belongs to the user: a new session signs in to English.
    other = make_client()
    await other.login(user.email)
    again = await other.get("/account")
    assert "My account" in again.text and '<html lang="en">' in again.text

    await switch(client, "zh_CN", "/account")
    chinese = await client.get("/account")
    assert "我的账户" in chinese.text and "修改密码" in chinese.text and "退出" in navigation(chinese.text)
    assert "My account" not in chinese.text


async def test_flash_messages_and_form_errors_in_english(client):
    await switch(client, "en", "/login")
    response = await client.submit("/login", {"email": "nobody@example.cn", "password": "wrong-password-1"})
    assert response.status_code == 400
    assert "Incorrect e-mail address or password" in response.text
    assert "邮箱或密码不正确" not in response.text


async def test_published_challenge_in_english(client):
    challenge = await make_challenge(title="Low-cost carbon capture", summary="Flue gas capture at scale",
                                     targets=0, criteria=())
    await switch(client, "en", f"/challenges/{challenge.id}")
    page = await client.get(f"/challenges/{challenge.id}")
    assert page.status_code == 200
    assert_english_chrome(page.text)
    for text in ("Key facts", "Open call", "Open for bids", "Beijing time", "Assessment targets",
                 "Review rubric", "Questions and answers", "Sign in to bid"):
        assert text in page.text, text
    assert "万元" not in page.text and "北京时间" not in page.text
    listing = await client.get("/challenges")
    assert "Low-cost carbon capture" in listing.text and "1 challenge(s) found" in listing.text
    # Domain names are data (Domain.name); the English name (Domain.name_en) is not shown yet.
    domain_names = {d.name for d in await Domain.all()}
    assert not stray_chinese(listing.text, ALLOWED_CJK | domain_names | set(regions.regions().values()))

