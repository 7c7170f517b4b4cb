"""Every page of `pages.PAGES` at a phone and a desktop width, in light and dark schemes.

Each visit saves a screenshot in test-artifacts/pages/ and runs axe-core: no serious or critical
violation is allowed (the axe policy in the README). The page must not scroll sideways, and the
browser must report no Content-Security-Policy violation or JavaScript error.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.pages import PAGES, PageSpec

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SCHEMES = ("light", "dark")
BLOCKING_IMPACTS = {"serious", "critical"}


def run_axe(page, axe_source: str) -> list[dict]:
    # Evaluated through the DevTools protocol, so the page's strict CSP stays on while axe runs.
    page.evaluate(axe_source)
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})")
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

        violations = [v for v in run_axe(page, axe_source) if v["impact"] in BLOCKING_IMPACTS]
        assert not violations, describe(violations)
        assert problems == []
    finally:
        context.close()
