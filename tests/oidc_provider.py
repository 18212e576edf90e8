"""The certified OpenID provider (panva/oidc-provider on Node.js) started for the SSO tests,
and a browser that walks its real login and consent pages.

`scripts/test` runs `npm ci` in tests/oidc; `provider.js` there configures the client
"challenge-test" (redirect URI http://testserver/oidc/callback) and reads each subject's
claims from a JSON file that `Provider.set_identity` writes.
"""

import json
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

HERE = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "challenge-test"
CLIENT_SECRET = "test-secret"
APP = "http://testserver/"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Provider:
    def __init__(self, folder: Path, issuer: str | None = None) -> None:
        self.port = _free_port()
        self.accounts_file = folder / f"accounts-{self.port}.json"
        self.accounts: dict[str, dict] = {}
        self._write()
        self.url = f"http://127.0.0.1:{self.port}"
        arguments = ["node", str(HERE / "provider.js"), str(self.port), str(self.accounts_file)]
        self.process = subprocess.Popen([*arguments, *([issuer] if issuer else [])], cwd=HERE,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.process.terminate()
        output = self.process.communicate(timeout=10)[0]
        raise RuntimeError("the OpenID provider did not start: " + (output or ""))

    def _write(self) -> None:
        self.accounts_file.write_text(json.dumps(self.accounts))

    def set_identity(self, sub: str, **claims) -> None:
        self.accounts[sub] = claims
        self._write()

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=10)  # waits and closes its output pipe


def node_available() -> bool:
    return shutil.which("node") is not None and (HERE / "node_modules" / "oidc-provider").is_dir()


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    if not node_available():
        pytest.fail("the SSO tests need Node.js and `npm ci` in tests/oidc (scripts/test does both)")
    running = Provider(tmp_path_factory.mktemp("oidc"))
    yield running
    running.stop()


def walk_provider(url: str, login: str, *, deny: bool = False, browser: httpx.Client | None = None) -> str:
    """What the person does at the provider: sign in on its login page (any password: the
    provider's development interactions), then consent; returns the URL it sends them back to."""
    own = browser is None
    browser = browser or httpx.Client(timeout=10)
    try:
        response = browser.get(url)
        for _ in range(12):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if target.startswith(APP):
                    return target
                response = browser.get(target)
                continue
            assert response.status_code == 200, response.text[:500]
            page = response.text
            action = re.search(r'<form[^>]*action="([^"]+)"', page).group(1)
            if 'name="login"' in page:
                response = browser.post(urljoin(str(response.url), action),
                                         data={"prompt": "login", "login": login, "password": "any"})
            elif deny:
                abort = re.search(r'href="([^"]*/abort)"', page).group(1)
                response = browser.get(urljoin(str(response.url), abort))
            else:
                response = browser.post(urljoin(str(response.url), action), data={"prompt": "consent"})
        raise AssertionError("the provider never sent the browser back")
    finally:
        if own:
            browser.close()
