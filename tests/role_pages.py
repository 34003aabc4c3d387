"""The pages of each role, found from the URLconf (not listed by hand), and what they show.

``page_routes()`` lists every route without parameters; ``pages_of(client)`` keeps those that
answer the client's GET with a whole HTML page, plus one customer page with each of its tabs.
``visible_text(html)`` is the text a person reads: the body without <script>, <style>, <code>,
<pre>, <textarea>, <template> and <svg>, plus the labels shown beside cards on a phone
(``data-label``), placeholders and titles. ``lazy_fragments(html)`` are the partials a page loads
by itself (``hx-get`` with ``hx-trigger="load ..."``), such as a customer tab's panel.

Used by the phone test (tests/browser/test_phone_overflow.py) and by the text tests
(tests/pages/test_page_text.py), so a new page is checked without anyone adding it there.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from django.urls import URLPattern, URLResolver, get_resolver

ROLES = {"rep": ("rep1", "demo-rep"), "manager": ("manager", "demo-manager"), "finance": ("finance", "demo-finance")}
#: Route prefixes that are not pages of the product (API, admin, login, language switch).
NOT_PAGES = ("api/", "admin/", "accounts/", "i18n/")


def page_routes() -> list[str]:
    """Paths of every route without parameters, from the URLconf."""
    paths: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = str(p.pattern)
            if "<" in route or route.startswith("^"):
                continue
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern):
                paths.append("/" + prefix + route)

    walk(get_resolver().url_patterns, "")
    return sorted({p for p in paths if not p[1:].startswith(NOT_PAGES)})


def pages_of(client) -> list[str]:
    """The routes that answer this client's GET with a whole HTML page, plus a customer page and its tabs."""
    pages = []
    for path in page_routes():
        response = client.get(path)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            if b"<html" in response.content:
                pages.append(path)
    customer = re.search(rb'href="(/customers/\d+/)', client.get("/customers/").content)
    if customer is None:
        customer = re.search(rb'href="(/customers/\d+/)', client.get("/sales/").content)
    if customer:
        url = customer.group(1).decode()
        html = client.get(url).content.decode()
        pages.append(url)
        pages += [f"{url}?tab={t}" for t in re.findall(r'data-tab="(\w+)"', html) if t != "overview"]
    return pages


_LAZY = re.compile(r"<[^>]*\bhx-get=\"([^\"]+)\"[^>]*>")


def lazy_fragments(html: str) -> list[str]:
    """URLs of the partials the page loads on its own (``hx-trigger`` starting with ``load``)."""
    urls = []
    for match in _LAZY.finditer(html):
        tag = match.group(0)
        trigger = re.search(r'hx-trigger="([^"]*)"', tag)
        if trigger and re.match(r"\s*load\b", trigger.group(1)):
            urls.append(unescape(match.group(1)))
    return urls


#: Elements whose content is not read as page text (code, scripts, what a user typed).
HIDDEN = {"script", "style", "code", "pre", "textarea", "template", "svg", "head", "title", "noscript"}
#: Attributes shown to a person (card labels on a phone, placeholders, tooltips).
SHOWN_ATTRIBUTES = ("data-label", "placeholder", "title")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.hidden = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        if not self.hidden:
            self.chunks += [v for k, v in attrs if k in SHOWN_ATTRIBUTES and v]
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag in HIDDEN:
            self.hidden += 1

    def handle_startendtag(self, tag, attrs):
        if not self.hidden:
            self.chunks += [v for k, v in attrs if k in SHOWN_ATTRIBUTES and v]

    def handle_endtag(self, tag):
        if tag in VOID or tag not in self.stack:
            return
        while self.stack:
            top = self.stack.pop()
            if top in HIDDEN:
                self.hidden -= 1
            if top == tag:
                break

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.chunks.append(data)


def visible_text(html: str) -> list[str]:
    """The pieces of text a person reads on the page (one per text node or shown attribute)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return [" ".join(chunk.split()) for chunk in parser.chunks]
