"""Every page of the app, in French and in Italian, for each kind of reader, without one English
sentence left in it.

The pages are found from ``app.url_map``: every endpoint that answers GET needs sample URLs here
(or in the route table of tests/security/test_personas.py) or a reason why it is not a page for
people, so a new page cannot escape. The site is seeded with content written in the language
under test, so whatever English is found came from the product.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from forum import tokens
from forum.accounts import services as accounts
from forum.accounts import tokens as api_tokens
from forum.accounts.models import Role, User
from forum.changelog import services as changelog
from forum.extensions import db
from forum.ideas import merging, services
from forum.ideas.models import Board, Idea, SubscriptionLevel, Visibility
from forum.moderation import services as moderation
from forum.notifications import services as notifications
from forum.notifications.models import Notification
from forum.triage import services as triage
from tests.conftest import PASSWORD
from tests.english import english_on_page
from tests.security.conftest import World, sign_in_as
from tests.security.test_personas import ROUTES

LOCALES = ("fr", "it")
READERS = ("anonymous", "customer", "staff", "admin")

# What people write, in the language under test: English found on a page is the product's.
WRITTEN = {
    "fr": {
        "members": "Salon", "staff": "Équipe", "about": "Réservé aux membres",
        "public": ("Mode sombre", "Trop lumineux le soir, mes yeux fatiguent."),
        "public2": ("Mode sombre automatique", "Suivre le réglage du système, le soir."),
        "member_idea": ("Exporter en PDF", "Pour imprimer les rapports mensuels."),
        "staff_idea": ("Feuille de route interne", "Priorités du trimestre."),
        "hidden": ("Publicité déguisée", "Achetez nos montres."),
        "merged": ("Thème nuit", "Comme le mode sombre."),
        "shipped": ("Raccourcis clavier", "Pour aller plus vite."),
        "comment": "Oui, s'il vous plaît !", "note": "Prévu pour mars.",
        "internal": "Demander à l'équipe mobile.", "rude": "Commentaire grossier",
        "release": "Disponible dans la version 2.4.", "tag": "Ergonomie",
        "view": "Mes priorités", "token": "Intégration continue", "details": "Publicité",
    },
    "it": {
        "members": "Salotto", "staff": "Squadra", "about": "Riservato ai membri",
        "public": ("Tema scuro", "Troppo luminoso la sera, mi stancano gli occhi."),
        "public2": ("Tema scuro automatico", "Seguire l'impostazione del sistema, la sera."),
        "member_idea": ("Esportare in PDF", "Per stampare i rapporti mensili."),
        "staff_idea": ("Piano interno", "Priorità del trimestre."),
        "hidden": ("Pubblicità nascosta", "Comprate i nostri orologi."),
        "merged": ("Tema notte", "Come il tema scuro."),
        "shipped": ("Scorciatoie da tastiera", "Per andare più veloci."),
        "comment": "Sì, per favore!", "note": "Previsto per marzo.",
        "internal": "Chiedere al gruppo mobile.", "rude": "Commento maleducato",
        "release": "Disponibile nella versione 2.4.", "tag": "Usabilità",
        "view": "Le mie priorità", "token": "Integrazione continua", "details": "Pubblicità",
    },
}


@dataclass
class Site(World):
    """The security suite's world (its route table builds URLs from it), and more."""

    locale: str = "fr"
    shipped: Idea | None = None
    notice: Notification | None = None
    answer_url: str = ""
    unsubscribe_url: str = ""
    confirm_url: str = ""
    reset_url: str = ""


def build_site(locale: str) -> Site:
    words = WRITTEN[locale]
    people: dict[str, User | None] = {"anonymous": None}
    for key, name, role in [("customer", "Anna", Role.CUSTOMER), ("bob", "Bob", Role.CUSTOMER),
                            ("other", "Fred", Role.CUSTOMER), ("staff", "Pam", Role.STAFF),
                            ("admin", "Ada", Role.ADMIN)]:
        people[key] = accounts.register(email=f"{name.lower()}@example.com", name=name,
                                        password=PASSWORD, role=role)
        people[key].locale = locale
    anna, bob, pam = people["customer"], people["bob"], people["staff"]
    general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
    lounge = Board(slug="lounge", name=words["members"], description=words["about"],
                   visibility=Visibility.MEMBERS, position=1)
    team = Board(slug="team", name=words["staff"], description=words["staff"],
                 visibility=Visibility.STAFF, position=2)
    db.session.add_all([lounge, team])
    db.session.flush()

    def idea(key: str, author: User, board: Board) -> Idea:
        title, body = words[key]
        return services.submit_idea(author, title=title, body=body, board=board)

    public = idea("public", anna, general)
    idea("public2", bob, general)  # a likely duplicate, for the team's queue
    member_idea = idea("member_idea", anna, lounge)
    staff_idea = idea("staff_idea", pam, team)
    hidden = idea("hidden", people["other"], general)
    triage.set_idea_hidden(hidden, pam, hidden=True, reason=words["details"])
    merged = idea("merged", bob, general)
    merging.merge_ideas(merged, staff_idea, pam)
    shipped = idea("shipped", anna, general)
    services.cast_vote(shipped, bob)

    tag = triage.create_tag(pam, name=words["tag"])
    triage.set_tags(public, [tag], pam)
    triage.set_priority(public, pam, impact=3, effort=2)
    services.post_comment(public, bob, words["comment"])
    note = services.post_comment(public, pam, words["internal"], internal=True)
    rude = services.post_comment(public, bob, words["rude"])
    triage.set_comment_hidden(rude, pam, hidden=True, reason=words["details"])
    services.change_status(public, services.find_status("planned"), pam, note=words["note"])
    services.change_status(shipped, services.find_status("shipped"), pam, note=words["note"],
                           release_notes=words["release"])
    changelog.record_answer(
        tokens.make("satisfaction", {"u": bob.id, "i": shipped.id}), "partly")
    moderation.report(people["other"], public, reason="spam", details=words["details"])
    triage.save_view(pam, name=words["view"], query="board=general")
    api_tokens.create_token(anna, words["token"])
    services.set_subscription(member_idea, anna, SubscriptionLevel.ALL)
    notifications.send_test("pam@example.com", pam)
    db.session.flush()
    notice = db.session.scalars(db.select(Notification).where(Notification.user_id == anna.id)
                                ).first()
    db.session.commit()
    assert notice is not None, "Anna, who wrote the idea, hears of its status change"
    return Site(
        people=people, boards={"public": general, "members": lounge, "staff": team},
        ideas={"public": public, "members": member_idea, "staff": staff_idea, "hidden": hidden,
               "merged": merged},
        internal_note=note, hidden_comment=rude, locale=locale, shipped=shipped, notice=notice,
        answer_url="/satisfaction/{}/yes".format(
            tokens.make("satisfaction", {"u": anna.id, "i": shipped.id})),
        unsubscribe_url="/unsubscribe/{}".format(
            tokens.make("unsubscribe", {"u": anna.id, "i": public.id})),
        confirm_url=f"/confirm/{accounts.confirm_token(bob)}",
        reset_url=f"/password/reset/{accounts.reset_token(bob)}",
    )


# Pages the security table has no (or no successful) GET sample of.
MORE: dict[str, Callable[[Site], list[str]]] = {
    "accounts.account": lambda s: ["/account"],
    "accounts.me": lambda s: ["/me"],
    "accounts.profile": lambda s: [f"/people/{s.people['customer'].id}",
                                   f"/people/{s.people['staff'].id}"],
    "accounts.sign_in": lambda s: ["/signin"],
    "accounts.sign_up": lambda s: ["/signup"],
    "accounts.forgot_password": lambda s: ["/password/forgot"],
    "accounts.reset_password": lambda s: [s.reset_url, "/password/reset/forged"],
    "accounts.confirm_email": lambda s: [s.confirm_url, "/confirm/forged"],
    "changelog.answer": lambda s: [s.answer_url, s.answer_url.replace("/yes", "/no")],
    "notifications.unsubscribe_page": lambda s: [s.unsubscribe_url, "/unsubscribe/forged"],
    "notifications.open_notice": lambda s: [f"/notifications/{s.notice.id}"],
    "ideas.show": lambda s: [f"/ideas/{s.shipped.id}", f"/ideas/{s.ideas['merged'].id}"],
    "ideas.index": lambda s: ["/?sort=new", "/?sort=trending", "/?status=planned",
                              "/?tag=" + s.ideas["public"].tags[0].slug, "/?page=99"],
    "search.search": lambda s: ["/search?q=" + WRITTEN[s.locale]["public"][0].split()[0],
                                "/search?q=zzzz"],
    "statuses.change": lambda s: [f"/ideas/{s.ideas['public'].id}/status?status=shipped",
                                  f"/ideas/{s.ideas['public'].id}/status?status=declined"],
    "triage.inbox": lambda s: ["/staff/inbox?status=planned"],
    "triage.idea_list": lambda s: ["/staff/ideas?sort=priority", "/staff/ideas?q=zzzz"],
}

# Endpoints that answer GET but are not pages people read.
NOT_PAGES = {
    "static": "files",
    "statuses.stylesheet": "CSS",
    "triage.export_csv": "CSV files for other programs; their column names are field names",
    "api.openapi_json": "the machine-readable API description",
    **{endpoint: "JSON for programs; its messages are tested in tests/api/test_errors.py"
       for endpoint in ("api.list_boards", "api.list_ideas", "api.get_idea",
                        "api.list_comments", "api.history", "api.list_voters", "api.similar",
                        "api.list_statuses", "api.list_tags")},
}


def page_urls(app, site: Site) -> list[str]:
    urls: list[str] = []
    missing = []
    for endpoint in sorted({rule.endpoint for rule in app.url_map.iter_rules()
                            if "GET" in rule.methods}):
        if endpoint in NOT_PAGES:
            continue
        found = [check.url(site) for check in ROUTES.get(endpoint, []) if check.method == "GET"]
        found += MORE.get(endpoint, lambda s: [])(site)
        if not found:
            missing.append(endpoint)
        urls += [url for url in found if url not in urls]
    assert not missing, f"give these pages sample URLs in MORE (or NOT_PAGES a reason): {missing}"
    return urls


@pytest.fixture(params=LOCALES)
def site(request, app) -> Site:
    return build_site(request.param)


def test_every_page_is_listed(app):
    """A page without a sample URL fails here, before anyone forgets to translate it."""
    assert not set(NOT_PAGES) - {rule.endpoint for rule in app.url_map.iter_rules()}
    with app.test_request_context():
        page_urls(app, build_site("fr"))


@pytest.mark.slow
@pytest.mark.parametrize("reader", READERS)
def test_no_english_on_any_page(app, site, reader):
    client = sign_in_as(app.test_client(), site.people[reader])
    urls = page_urls(app, site)
    problems = []
    for url in urls:
        response = client.get(url, headers={"Accept-Language": site.locale},
                              follow_redirects=True)
        if not response.content_type.startswith(("text/html", "application/atom+xml")):
            continue
        html = response.text
        if response.content_type.startswith("text/html"):
            assert f'<html lang="{site.locale}"' in html, url
        problems += [f"{url} ({response.status_code}): {word!r} in {text!r}"
                     for word, text in english_on_page(html, site.locale)]
    assert len(urls) > 60
    assert not problems, f"{len(problems)} English pieces on {site.locale} pages for " \
        f"{reader}:\n" + "\n".join(dict.fromkeys(problems))


def test_the_detector_sees_english(app):
    """The net has holes only where French and Italian use the same word."""
    page = ('<html><body><p>Bonjour</p><button title="Delete this idea">x</button>'
            '<input type="submit" value="Save"><p>Il y a 3 jours</p>'
            '<pre><code>{"message": "Some fields are not valid."}</code></pre></body></html>')
    found = english_on_page(page, "fr")
    assert [word.lower() for word, _ in found] == ["delete", "save"]
    assert english_on_page("<p>Your vote counts.</p>", "it")
    assert english_on_page("<p>Ideas</p>", "fr"), "a whole English message of the product"
    assert not english_on_page("<p>Trop lumineux le soir, mes yeux fatiguent.</p>", "fr")
    assert not english_on_page("<p>Nessuna idea per ora: scrivi la prima!</p>", "it")


# Forms sent wrong, beyond the refusals of the security table: WTForms' own messages (required,
# e-mail, length, choice) and the services' reasons.
BAD_FORMS: list[tuple[str, str, Callable[[Site], str], Callable[[Site], dict]]] = [
    ("anonymous", "/signup", lambda s: "/signup",
     lambda s: {"email": "nope", "name": "", "password": "x"}),
    ("anonymous", "/signin", lambda s: "/signin", lambda s: {"email": "", "password": ""}),
    ("anonymous", "/password/forgot", lambda s: "/password/forgot", lambda s: {"email": "x"}),
    ("customer", "new idea", lambda s: "/ideas/new",
     lambda s: {"title": "ab", "body": "x" * 30_000, "board": "999"}),
    ("customer", "reset", lambda s: s.reset_url, lambda s: {"password": "x", "confirm": "y"}),
    ("customer", "notifications", lambda s: "/settings/notifications",
     lambda s: {"frequency": "hourly"}),
    ("staff", "mail test", lambda s: "/admin/mail", lambda s: {"to": "not an address"}),
    ("staff", "tag", lambda s: "/staff/tags", lambda s: {"name": "", "color": "red"}),
    ("admin", "status", lambda s: "/admin/statuses",
     lambda s: {"name": "", "kind": "nope", "color": "red"}),
    ("admin", "board", lambda s: "/admin/boards", lambda s: {"name": "", "visibility": "x"}),
]


@pytest.mark.slow
def test_form_errors_in_the_readers_language(app, site):
    cases = [(persona, f"{check.method} {check.url(site)}", check.url, check.data)
             for checks in ROUTES.values() for check in checks
             if check.method == "POST" and check.json is None
             for persona, expect in check.expect.items()
             if expect.status in (400, 422) and persona in READERS][:40] + BAD_FORMS
    problems, refused, signup = [], [], ""
    for persona, name, url, data in cases:
        client = sign_in_as(app.test_client(), site.people[persona])
        response = client.post(url(site), data=data(site),
                               headers={"Accept-Language": site.locale}, follow_redirects=True)
        problems += [f"{name} ({response.status_code}): {word!r} in {text!r}"
                     for word, text in english_on_page(response.text, site.locale)]
        refused.append((name, bool(re.search(r'class="[^"]*\berror\b', response.text))))
        if name == "/signup":
            signup = response.text
    assert not problems, "\n".join(dict.fromkeys(problems))
    assert [name for name, shown in refused[-len(BAD_FORMS):] if not shown] == [], \
        "each bad form is refused with its reasons"
    required = {"fr": "Ce champ est requis.", "it": "Questo campo è obbligatorio."}
    assert required[site.locale] in signup, "WTForms' own messages are translated"
