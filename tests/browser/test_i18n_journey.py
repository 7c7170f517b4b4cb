"""A visitor switches to Italian, signs up, posts an idea, and reads Italian throughout."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_italian_from_the_switcher_to_a_posted_idea(live_server, page):
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Language").select_option("it")  # the page reloads on change
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", name="Idee")).to_be_visible()

    page.get_by_role("link", name="Registrati").first.click()
    page.get_by_label("Il tuo nome").fill("Giulia Romano")
    page.get_by_label("Email").fill("giulia@example.com")
    page.get_by_label("Password").fill("una password lunga")
    page.get_by_role("button", name="Registrati").click()
    expect(page.get_by_text("Benvenuto, Giulia Romano! Il tuo account è pronto.")).to_be_visible()

    page.get_by_role("link", name="Nuova idea").click()
    page.get_by_role("button", name="Pubblica l’idea").click()  # empty: an Italian error
    expect(page.get_by_text("Questo campo è obbligatorio.").first).to_be_visible()
    page.get_by_label("Titolo").fill("Modalità scura per la dashboard")
    page.get_by_role("button", name="Pubblica l’idea").click()
    expect(page.get_by_text("La tua idea è stata pubblicata e il tuo voto è stato conteggiato."))\
        .to_be_visible()
    expect(page.locator(".badge", has_text="Aperta").first).to_be_visible()
    posted = page.locator(".idea-head time")
    expect(posted).to_have_text(re.compile(r"(second[oi]|minut[oi]) fa|adesso"))
    # The exact date on hover is Italian too (e.g. "23 nov 2026, 10:15:00").
    expect(posted).to_have_attribute(
        "title", re.compile(r"\d{1,2} (gen|feb|mar|apr|mag|giu|lug|ago|set|ott|nov|dic) \d{4}"))
