from forum.text import clean_input, excerpt, render_markdown, slugify


def test_markdown_renders_and_strips_dangerous_html():
    html = render_markdown("**bold** <script>alert(1)</script> [x](javascript:alert(1))")
    assert "<strong>bold</strong>" in html
    assert "<script" not in html
    assert "href=\"javascript" not in html  # left as inert text


def test_links_are_marked_as_user_content():
    html = render_markdown("[site](https://example.com)")
    assert 'href="https://example.com"' in html
    assert "nofollow" in html and "ugc" in html


def test_event_handlers_never_survive():
    html = render_markdown('<img src=x onerror="alert(1)">')
    assert "onerror" not in html or "&lt;img" in html


def test_clean_input_keeps_text_and_drops_control_characters():
    assert clean_input("  héllo\x00 wörld\r\n ") == "héllo wörld"


def test_excerpt_is_plain_and_short():
    text = excerpt("# Title\n\n" + "word " * 100, length=40)
    assert len(text) <= 40 and "#" not in text and text.endswith("…")


def test_slugify_folds_accents():
    assert slugify("Créer un thème sombre !") == "creer-un-theme-sombre"


def test_lone_surrogates_become_replacement_characters():
    # JSON may carry "\ud800"; it cannot be encoded to store, so it is stored as U+FFFD.
    assert clean_input("a\ud800b\udfff") == "a\ufffdb\ufffd"
    assert clean_input("a\ud800b").encode("utf-8")
