"""Browser tests: a real server (uvicorn, its own database and upload folder) driven by
Playwright through Debian's chromium. In CI a missing browser is a failure, never a skip."""

import asyncio
import email
import email.policy
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DEMO_PASSWORD = "demo-password-2025"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CLI = [sys.executable, "-m", "challenge.cli"]


def _server_env(data: Path, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "CHALLENGE_DATA_DIR": str(data),
        "CHALLENGE_SECRET_KEY": "e2e-secret-" + "y" * 32,
        "CHALLENGE_BASE_URL": f"http://127.0.0.1:{port}",
        "CHALLENGE_ARGON2_TIME_COST": "1",
        "CHALLENGE_ARGON2_MEMORY_KIB": "1024",
    }
    env.pop("CHALLENGE_DATABASE_URL", None)
    return env


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    """The demo, loaded once for this test process (through the services, as `challenge demo`
    does); each browser test serves a copy of its data folder (database, uploads, audit key)."""
    data = tmp_path_factory.mktemp("demo-template") / "data"
    subprocess.run([*CLI, "demo"], env=_server_env(data, _free_port()), check=True, capture_output=True)
    return data


@pytest.fixture
def live_server(tmp_path: Path, demo_data: Path):
    """A server on SQLite with the demo data loaded; yields its base URL."""
    port = _free_port()
    shutil.copytree(demo_data, tmp_path / "data")
    env = _server_env(tmp_path / "data", port)
    cli = CLI
    log = open(tmp_path / "server.log", "wb")
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        server.terminate()
        raise RuntimeError((tmp_path / "server.log").read_text())
    yield base
    server.terminate()
    server.wait(timeout=10)
    log.close()


@pytest.fixture
async def browser():
    if not os.path.exists(CHROMIUM):
        message = f"chromium not found at {CHROMIUM}: run scripts/test, which installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--headless", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser, request):
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shots = Path(os.environ.get("CHALLENGE_E2E_SHOTS", "test-artifacts"))
        shots.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(shots / f"{request.node.name}.png"), full_page=True)
    await context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


async def sign_in(page, base: str, email: str, password: str = DEMO_PASSWORD) -> None:
    await page.goto(f"{base}/login")
    await page.fill("#field-email", email)
    await page.fill("#field-password", password)
    await page.locator("main form button[type=submit]").first.click()
    await page.wait_for_url(lambda url: "/login" not in url)


async def mailed_link(outbox, to: str, path: str) -> str:
    """The link to `path` in the latest mail to `to` that the live server wrote to its outbox folder."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for file in sorted(outbox.glob("*.eml"), reverse=True):
            message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
            if message["To"] == to:
                return re.search(r"http\S+" + re.escape(path) + r"\S+", message.get_content()).group(0)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no mail to {to} in {sorted(outbox.glob('*'))[-5:]}")
