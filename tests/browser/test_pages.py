"""Every page of `pages.PAGES` at a phone and a desktop width, in light and dark schemes.

Each visit saves a screenshot in test-artifacts/pages/ and runs axe-core: no serious or critical
violation is allowed (the axe policy in the README). The page must not scroll sideways, the
browser must report no Content-Security-Policy violation or JavaScript error, and every control
Tab reaches shows that it has the focus.

The sweep runs on SQLite only: it judges what pages look like and how they are built, which the
database does not change; the journeys, which do write, run on both databases.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import RequestRedirect

from tests.browser.conftest import ARTIFACTS
from tests.browser.pages import NOT_PAGES, PAGES, PageSpec

pytestmark = pytest.mark.sqlite_only("the sweep judges rendering, which the database does not "
                                     "change; journeys cover both databases")

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SCHEMES = ("light", "dark")
BLOCKING_IMPACTS = {"serious", "critical"}
# The dark scheme only redefines the stylesheet's colour variables (static/css/app.css): the
# page's markup and layout are those of the light visit, checked by every rule there. In the
# dark, axe runs the rules whose verdict depends on colours.
COLOUR_RULES = ("color-contrast", "link-in-text-block")
MAX_TABS = 80

# One Tab further, then what has the focus and whether it is drawn: an outline of 2px or more
# or a box-shadow of its own (the skip link is off-screen until focused, then shown).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  const box = el.getBoundingClientRect();
  return {tag: el.tagName, name: (el.getAttribute("aria-label") || el.textContent || el.name
          || el.id || "").trim().replace(/\\s+/g, " ").slice(0, 40),
          drawn: outline || style.boxShadow !== "none", size: box.width * box.height};
}"""


def run_axe(page, axe_source: str, rules: tuple[str, ...] | None = None) -> list[dict]:
    """axe's violations on the page: of every rule axe enables by default, or of ``rules``."""
    # Evaluated through the DevTools protocol, so the page's strict CSP stays on while axe runs.
    page.evaluate(axe_source)
    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": list(rules)}
    results = page.evaluate("options => axe.run(document, options)", options)
    return results["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"{violation['impact']}: {violation['id']} ({violation['help']}) "
                     f"at {targets}: {violation['nodes'][0]['failureSummary']}")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("spec", PAGES, ids=[spec.name for spec in PAGES])
def test_page(spec: PageSpec, viewport: str, scheme: str, browser, demo_site, signed_in_state,
              axe_source):
    context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=scheme,
                                  storage_state=signed_in_state(demo_site, spec.persona))
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}")
            if msg.type == "error" and "Content-Security-Policy" in msg.text else None)
    try:
        response = page.goto(demo_site.url + spec.path(demo_site))
        assert response is not None and response.status == spec.status
        if spec.then is not None:
            spec.then(page)
        page.evaluate("document.fonts.ready")
        folder = ARTIFACTS / "pages"
        folder.mkdir(parents=True, exist_ok=True)
        # The whole page, and the first screen alone: what a person sees before scrolling.
        shot = f"{spec.name}-{viewport}-{scheme}"
        page.screenshot(path=str(folder / f"{shot}.png"), full_page=True)
        page.screenshot(path=str(folder / f"{shot}-first-screen.png"))

        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px"

        rules = COLOUR_RULES if scheme == "dark" else None
        violations = [v for v in run_axe(page, axe_source, rules)
                      if v["impact"] in BLOCKING_IMPACTS]
        assert not violations, describe(violations)
        if scheme == "light":  # where focus is drawn does not depend on the colour scheme
            invisible = focus_not_shown(page)
            assert invisible == [], f"focus is not visible on {invisible}"
        assert problems == []
    finally:
        context.close()


def focus_not_shown(page) -> list[dict]:
    """Tab through the page (up to MAX_TABS stops) and list the stops that show no focus."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    first, invisible = None, []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED)
        if stop is None or stop == first:
            break  # past the last control, or back at the first: the whole page is done
        first = first or stop
        if not stop["drawn"] or stop["size"] == 0:
            invisible.append(stop)
    return invisible


def test_every_page_a_person_can_open_has_a_row(demo_site):
    """A new screen without a row in pages.PAGES fails here, so the sweep covers it."""
    adapter = demo_site.app.url_map.bind("localhost")
    covered = set()
    for spec in PAGES:
        path, _, query = spec.path(demo_site).partition("?")
        try:
            endpoint, _args = adapter.match(path, "GET", query_args=query)
        except RequestRedirect:
            continue
        covered.add(endpoint)
    get_routes = {rule.endpoint for rule in demo_site.app.url_map.iter_rules()
                  if "GET" in (rule.methods or ())}
    missing = get_routes - covered - set(NOT_PAGES)
    assert missing == set(), f"GET routes with no row in pages.PAGES: {sorted(missing)}"
    assert covered & set(NOT_PAGES) == set(), "a route has a row and a reason for none"
