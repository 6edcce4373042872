"""What a message looks like: its Markdown source rendered once, when it is sent or edited, to the HTML stored
beside it (history pages and frames never render it again).

The subset a chat needs: bold, italic, strikethrough, inline code, fenced code blocks highlighted by Pygments
(CSS classes; static/code.css has both themes' colours), quotes, lists, links and bare URLs, line breaks as
typed, `:smile:`-style shortcodes as emoji (outside code), and @mentions (rooms/mentions.py) as links to the
person's card. No headings, images, tables or raw HTML.

Whatever markdown-it makes goes through nh3 to an allow-list of tags and attributes, so a message can never
carry a script, an event handler, a javascript: URL, or an attribute htmx or its ws extension would act on
(id, hx-*, ws-*, name, form, any data-* but a mention's numeric data-user): it cannot swap, trigger or
replace anything on the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

import emoji
import nh3
from django.utils.html import escape
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

from .mentions import Person, link_mentions

TAGS = {"p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span"}
ATTRIBUTES = {"a": {"href", "data-user"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
# The only classes a message may carry: Pygments' token classes ("k", "nf", "s2"…), none of which the page's
# own stylesheet or script uses.
CODE_CLASSES = frozenset(c for c in STANDARD_TYPES.values() if c)
# Links go to other sites, whole (not to a path of this one: a relative or scheme-relative URL), except a
# mention's, to the person's card; a mention names its person by id (the page highlights mentions of its reader).
_ABSOLUTE = re.compile(r"(https?://|mailto:)", re.IGNORECASE)
_CARD = re.compile(r"/people/[^/?#\s]+/card/\Z")
_ATTRIBUTE_RULES = {"href": lambda v: _ABSOLUTE.match(v) or _CARD.match(v), "data-user": str.isdigit}
# Markup can make text many times larger (a code block is a span per token, a bare link a whole <a>); past
# this a message shows as plain text, so one message cannot fill a reader's outbox or a catch-up.
MAX_HTML = 32 * 1024
_FORMATTER = HtmlFormatter(nowrap=True)


def _highlight(code: str, language: str, attrs: str) -> str:
    """A fenced block in a language Pygments knows, as token spans; otherwise "" (markdown-it escapes it)."""
    try:
        lexer = get_lexer_by_name(language.strip()) if language.strip() else None
    except ClassNotFound:
        lexer = None
    return highlight(code, lexer, _FORMATTER) if lexer else ""


def _shortcodes(state: StateCore) -> None:
    """`:smile:` becomes 😄 in text, never in code (inline code and fences are tokens of their own)."""
    for block in state.tokens:
        for token in block.children or ():
            if token.type == "text" and ":" in token.content:
                token.content = emoji.emojize(token.content, language="alias")


_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True, "highlight": _highlight})
    .disable(["heading", "lheading", "hr", "image", "code", "html_block", "html_inline", "reference", "entity"])
    .enable(["strikethrough", "linkify"])
)
_markdown.core.ruler.push("emoji_shortcodes", _shortcodes)
_markdown.core.ruler.push("mentions", link_mentions)
_markdown.linkify.set({"fuzzy_link": False})  # "main.py" or "README.md" is a file name, not a site


def _attribute(tag: str, name: str, value: str) -> str | None:
    rule = _ATTRIBUTE_RULES.get(name)
    return value if rule is None or rule(value) else None


def sanitize(html: str) -> str:
    """Only the allow-list's tags and attributes, whatever `html` holds."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=_attribute,
        allowed_classes={"span": CODE_CLASSES | {"mention", "mention-here"}, "a": {"mention"}},
        url_schemes=URL_SCHEMES,
        link_rel="noopener nofollow ugc",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    ).strip()


class Rendered(NamedTuple):
    html: str
    mentioned: frozenset[int]  # the people its @names name
    here: bool  # whether it says @here


def render(source: str) -> str:
    """The message's HTML: safe to put on the page as it is."""
    return render_message(source).html


def render_message(source: str, people: Mapping[str, Person] | None = None, here: bool = False) -> Rendered:
    """The HTML, with @names in `people` (lower-case username -> Person) linked, and @here marked if `here`."""
    env = {"people": people, "here": here}
    html = sanitize(_markdown.render(source, env))
    if len(html) > MAX_HTML:
        html = "<p>" + escape(source).replace("\n", "<br>\n") + "</p>"
    return Rendered(html, frozenset(env["mentioned"]), env["here"])
