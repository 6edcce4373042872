"""Formatting: Markdown rendered once when a message is stored, highlighted code, emoji shortcodes; and a corpus
of XSS and htmx-injection payloads that comes out inert on both paths a message takes to a reader, the page
(the Django test client) and the pushed frame (a socket over the real channels-redis layer)."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from rooms import formatting, services
from rooms.management.commands import code_styles

from .helpers import drain, frames_until, open_socket


def render(source: str) -> str:
    return formatting.render(source)


# ---- what formatting makes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, html",
    [
        ("**bold** _italic_ ~~gone~~", "<p><strong>bold</strong> <em>italic</em> <s>gone</s></p>"),
        ("`x < y`", "<p><code>x &lt; y</code></p>"),
        ("one\ntwo", "<p>one<br>\ntwo</p>"),
        ("> said\n\nreply", "<blockquote>\n<p>said</p>\n</blockquote>\n<p>reply</p>"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("3. c\n4. d", '<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>'),
        ("# not a heading", "<p># not a heading</p>"),
        ("    four spaces", "<p>four spaces</p>"),  # indenting is not code in a chat
        ("![alt](https://example.com/x.png)", "<p>!<a"),  # no images: readers' browsers fetch nothing
        ("a & b < c", "<p>a &amp; b &lt; c</p>"),
        ("&lt;b&gt;", "<p>&amp;lt;b&amp;gt;</p>"),  # what was typed, not an entity
        (":tada: shipped, :+1:", "<p>🎉 shipped, 👍</p>"),
        ("`:tada:` stays", "<p><code>:tada:</code> stays</p>"),
        (":no_such_code:", "<p>:no_such_code:</p>"),
    ],
)
def test_markdown_subset(source, html):
    assert render(source).startswith(html)


def test_links_and_bare_urls_open_apart_and_pass_nothing_on():
    html = render("see https://example.com/a?b=1 and [the docs](https://docs.example.com)")
    assert html.count('target="_blank" rel="noopener nofollow ugc"') == 2
    assert 'href="https://example.com/a?b=1"' in html and 'href="https://docs.example.com"' in html


def test_fenced_code_is_highlighted_with_classes_and_unknown_languages_stay_plain():
    html = render("```python\ndef f():\n    return 1  # done\n```")
    assert html.startswith("<pre><code>") and '<span class="k">def</span>' in html and '<span class="c1">' in html
    assert render("```nosuchlanguage\n<b>x</b>\n```") == "<pre><code>&lt;b&gt;x&lt;/b&gt;\n</code></pre>"
    assert ":tada:" in render("```\n:tada:\n```")


def test_the_code_colours_file_is_what_pygments_makes():
    assert code_styles.TARGET.read_text() == code_styles.stylesheet(), "run `manage.py code_styles`"


# ---- nothing gets through -----------------------------------------------------------------------------------

CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle/></svg>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<iframe src=https://evil.example></iframe>",
    "<style>body{display:none}</style>",
    "<<script>script>alert(1)//<</script>/script>",
    "<b><i>unclosed <a href='javascript:alert(1)'>x",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    '[x](https://example.com "\\" onmouseover=\\"alert(1)")',
    '<a href="https://example.com" onclick="alert(1)">ok</a>',
    '<div hx-get="/accounts/logout/" hx-trigger="load">x</div>',
    '<div id="composer" hx-swap-oob="true">replaced</div>',
    '<div id="room-list" hx-swap-oob="beforeend"><li>fake room</li></div>',
    '<form ws-send><input name="body" value="spam"></form>',
    '<span data-hx-post="/read-all/" data-hx-trigger="load">x</span>',
    '<p id="messages-1" class="message mine">spoof</p>',
    '<button form="composer" name="body" value="x">click</button>',
    "`<script>alert(1)</script>`",
    '```"><script>alert(1)</script>\nx\n```',
    '```python" onload="alert(1)\nx = 1\n```',
    "[x](//evil.example/steal)",
    "[x](/accounts/logout/)",
]

# What the sanitizer itself must stop, whatever the Markdown stage lets through (it escapes raw HTML today;
# these prove the allow-list holds on its own).
RAW = [
    '<div id="composer" hx-swap-oob="true" hx-get="/accounts/logout/" hx-trigger="load">x</div>',
    '<script>alert(1)</script><style>*{display:none}</style><iframe src="https://evil.example"></iframe>',
    '<img src="https://tracker.example/p.gif"><svg onload="alert(1)"></svg><math><mi>x</mi></math>',
    '<a href="javascript:alert(1)" onclick="alert(1)" data-hx-post="/read-all/">a</a><a href="/m/1/">b</a>',
    '<form ws-send><input name="body" form="composer" value="spam"><button>go</button></form>',
    '<span class="message mine dot menu-toggle k" id="msg-1" data-card>spoof</span>',
    '<p style="position:fixed;inset:0" title="t" lang="en">cover</p><code class="language-x">c</code>',
]

ALLOWED_ATTRIBUTES = {"a": {"href", "target", "rel", "title"}, "ol": {"start"}, "span": {"class"}}


class Inert(HTMLParser):
    """Fails on any tag, attribute, class or URL outside what formatting allows."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in formatting.TAGS, tag
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()) | {"title", "lang"}, (tag, name)
            if name == "href":
                assert re.match(r"(https?|mailto):", value or ""), value
            if name == "class":
                assert set((value or "").split()) <= formatting.CODE_CLASSES, value


def assert_inert(html: str) -> None:
    checker = Inert()
    checker.feed(html)
    checker.close()


class Attributes(HTMLParser):
    """Every value an attribute has anywhere in a document, by attribute name (text is not looked at)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.values: dict[str, list[str | None]] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            self.values.setdefault(name, []).append(value)


def body_of(html: str, message_id: int) -> str:
    """A message's body as the page or the frame holds it (a body holds no <div> of its own)."""
    article = html[html.index(f'id="msg-{message_id}"') :]
    start = article.index('<div class="body">') + len('<div class="body">')
    return article[start : article.index("</div>", start)]


@pytest.mark.parametrize("payload", CORPUS)
def test_the_corpus_is_inert_as_rendered(payload):
    assert_inert(render(payload))


@pytest.mark.parametrize("html", RAW)
def test_the_sanitizer_alone_keeps_only_the_allow_list(html):
    assert_inert(formatting.sanitize(html))


def test_links_go_to_other_sites_whole_never_to_a_path_here():
    html = render("[a](//evil.example/x) [b](/accounts/logout/) [c](https://ok.example/) main.py README.md")
    assert html.count("href=") == 1 and 'href="https://ok.example/"' in html
    assert "http://main.py" not in html  # a file name is not a site


def test_a_message_whose_markup_would_be_huge_shows_as_plain_text():
    source = "```python\n" + "a+" * 1990 + "\n```"
    html = render(source)
    assert len(html) <= formatting.MAX_HTML and html.startswith("<p>```python<br>")
    assert len(render("https://a.example " * 200)) <= formatting.MAX_HTML


@pytest.mark.django_db(transaction=True)
def test_the_corpus_is_inert_on_the_page(people):
    alice, general = people["alice"], people["general"]
    ids = [services.post_message(alice, general.pk, p, uuid.uuid4()).message.pk for p in CORPUS]
    client = Client()
    client.force_login(people["bob"])
    page = client.get(f"/rooms/{general.slug}/").content.decode()
    for message_id in ids:
        assert_inert(body_of(page, message_id))
    ids = Attributes(page).values["id"]
    assert ids.count("composer") == 1 and ids.count("room-list") == 1  # nothing a message says is an element


@pytest.mark.asyncio
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_the_corpus_is_inert_in_pushed_frames(people):
    general = people["general"]
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    await drain(bob, quiet=0.3)
    post = database_sync_to_async(services.post_message)
    for payload in CORPUS:
        message = (await post(people["alice"], general.pk, payload, uuid.uuid4())).message
        frame = (await frames_until(bob, f'id="msg-{message.pk}"'))[-1]
        assert_inert(body_of(frame, message.pk))
        # The frame's one out-of-band target is its message list: no message adds another.
        assert Attributes(frame).values["hx-swap-oob"] == ["beforeend"]
    await bob.disconnect()


# ---- rendered once ------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_rendered_when_sent_and_edited_never_when_shown(people, monkeypatch):
    alice, general = people["alice"], people["general"]
    message = services.post_message(alice, general.pk, "**first**", uuid.uuid4()).message
    assert message.html == "<p><strong>first</strong></p>"
    edited = services.edit_message(alice, message.pk, "_second_")
    assert edited.html == "<p><em>second</em></p>" and edited.body == "_second_"
    calls = []
    monkeypatch.setattr(formatting, "render", lambda source: calls.append(source) or "")
    client = Client()
    client.force_login(people["bob"])
    page = client.get(f"/rooms/{general.slug}/").content.decode()
    assert "<em>second</em>" in page and calls == []


@pytest.mark.django_db(transaction=True)
def test_messages_from_before_formatting_show_plain_until_the_migration_renders_them(people):
    from importlib import import_module

    from django.apps import apps

    from rooms.models import Message

    alice, general = people["alice"], people["general"]
    message = services.post_message(alice, general.pk, "**old** <b>", uuid.uuid4()).message
    Message.objects.filter(pk=message.pk).update(html="")  # as a previous version's worker stored it
    client = Client()
    client.force_login(people["bob"])
    assert body_of(client.get(f"/rooms/{general.slug}/").content.decode(), message.pk) == "**old** &lt;b&gt;"
    import_module("rooms.migrations.0010_render_existing_messages").render_existing(apps, None)
    assert Message.objects.get(pk=message.pk).html == "<p><strong>old</strong> &lt;b&gt;</p>"


@pytest.mark.django_db(transaction=True)
def test_the_edit_form_gets_what_the_author_wrote(people):
    alice, general = people["alice"], people["general"]
    message = services.post_message(alice, general.pk, "**as typed** :tada:", uuid.uuid4()).message
    client = Client()
    client.force_login(alice)
    assert client.get(f"/m/{message.pk}/source/").json() == {"body": "**as typed** :tada:"}


# ---- emoji by name, for the composer's suggestions ----------------------------------------------------------


def test_emoji_suggestions_by_shortcode_and_name_in_both_languages():
    from rooms import shortcodes

    assert shortcodes.suggest("smi")[0].code == ":smile:"  # shortcodes first, shortest first
    assert shortcodes.suggest("+1")[0].char == "👍"
    assert "🎉" in [e.char for e in shortcodes.suggest("party")]  # by its English name too
    assert "😄" in [e.char for e in shortcodes.suggest("大笑", "zh-hans")]
    assert shortcodes.suggest("s") == [] and shortcodes.suggest("zzzzqq") == []
    assert len(shortcodes.suggest("face")) == shortcodes.SUGGESTIONS


@pytest.mark.django_db
def test_the_suggestions_follow_the_pages_language(people):
    client = Client()
    client.force_login(people["alice"])
    chinese = client.get("/emoji/", {"q": "大笑"}, headers={"Accept-Language": "zh-CN"}).json()["suggestions"]
    assert {"insert": "😄", "label": "😄 :smile:"} in chinese
    assert client.get("/emoji/", {"q": "大笑"}, headers={"Accept-Language": "en"}).json() == {"suggestions": []}
