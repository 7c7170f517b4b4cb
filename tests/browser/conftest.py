"""Browser tier: Playwright drives Debian's Chromium against a live server on a free port."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from forum import create_app
from forum.demo import DEMO_PASSWORD
from forum.extensions import db
from tests.browser.pages import PERSONAS, Site, load_demo
from tests.conftest import skip_or_fail

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        skip_or_fail("Debian's chromium is not installed (make browser-deps installs it as root)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path, tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    # Chromium writes profile data into $HOME; keep it out of the real one.
    home = tmp_path_factory.mktemp("chromium-home")
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
    if old_home is not None:
        os.environ["HOME"] = old_home


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_app(app_config):
    config = {k: v for k, v in app_config.items() if k != "SERVER_NAME"}
    # The browser posts real forms: CSRF on, exactly as in production.
    config["WTF_CSRF_ENABLED"] = True
    app = create_app(config)
    yield app
    # Close the server's pooled connections before the test's database is dropped.
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    server = LiveServer(live_app).start()
    yield server
    server.stop()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def axe_path() -> Path:
    """The axe-core the Makefile pinned (``make axe``); its version is read from there."""
    version = re.search(r"^AXE_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert version, "the Makefile pins AXE_VERSION"
    return ROOT / "tests" / "browser" / "vendor" / f"axe-core-{version[1]}" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = axe_path()
    if not path.exists():
        skip_or_fail(f"axe-core is not vendored at {path.relative_to(ROOT)} (run `make axe`)")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def demo_site(migrated_db, tmp_path_factory) -> Site:
    """One live server on the demo data set, shared by the read-only browser tests."""
    folder = tmp_path_factory.mktemp("demo-site")
    database_url = migrated_db.create(folder)
    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(folder), "DATABASE_URL": database_url,
        "SEARCH_BACKEND": "whoosh", "SEARCH_INDEX_DIR": str(folder / "search-index"),
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", "WTF_CSRF_ENABLED": True,
    })
    load_demo(app)
    server = LiveServer(app).start()
    yield Site(app=app, url=server.url)
    server.stop()
    with app.app_context():
        db.engine.dispose()
    migrated_db.drop(database_url)


@pytest.fixture(scope="session")
def signed_in_state(browser) -> Callable[[Site, str | None], dict | None]:
    """The cookies of a persona signed in through the real form, once per server and persona."""
    cache: dict[tuple[str, str], dict] = {}

    def state(site: Site, persona: str | None) -> dict | None:
        if persona is None:
            return None
        key = (site.url, persona)
        if key not in cache:
            cache[key] = sign_in_state(browser, site.url, PERSONAS[persona], DEMO_PASSWORD)
        return cache[key]

    return state


def sign_in_state(browser, base_url: str, email: str, password: str) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(base_url + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base_url + "/")
    state = context.storage_state()
    context.close()
    return state
