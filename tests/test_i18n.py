"""Language: every user-facing string is translatable and the Dutch catalogue is complete.

* The Dutch catalogue (locale/nl/LC_MESSAGES/django.po) translates every msgid, with nothing fuzzy and
  the same placeholders as the English source.
* The pure-Python compiler (``compilemessages_if_needed``) produces a .mo that gettext loads.
* A scanner reads every project template and fails on text outside ``{% translate %}`` /
  ``{% blocktranslate %}`` (one test per template, reporting ``file:line: text``).
* Activating Dutch translates known strings, and a page asked for with ``Accept-Language: nl`` is Dutch.
"""

from __future__ import annotations

import ast
import gettext as gnu_gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
NL_PO = BASE / "locale" / "nl" / "LC_MESSAGES" / "django.po"
TEMPLATE_ROOTS = [
    BASE / "templates",
    BASE / "customers" / "templates",
    BASE / "accounting" / "templates",
    BASE / "scenarios" / "templates",
    BASE / "salesforce_tasks" / "templates",
]


# --------------------------------------------------------------------------- reading a .po file


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (header included, obsolete ``#~`` entries flagged)."""
    entries: list[Entry] = []
    current: Entry | None = None
    section = None
    flags: set[str] = set()

    def start(lineno: int) -> Entry:
        nonlocal flags
        entry = Entry(line=lineno, flags=flags)
        flags = set()
        entries.append(entry)
        return entry

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            current, section = None, None
            continue
        if line.startswith("#,"):
            flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgctxt":
            current = start(lineno)
            current.msgctxt, section = ast.literal_eval(rest), "msgctxt"
        elif keyword == "msgid":
            if current is None or current.msgctxt is None or current.msgid or current.msgstr:
                current = start(lineno)
            current.msgid, section = ast.literal_eval(rest), "msgid"
        elif keyword == "msgid_plural":
            current.msgid_plural, section = ast.literal_eval(rest), "msgid_plural"
        elif keyword.startswith("msgstr["):
            index = int(keyword[7:-1])
            current.msgstr[index], section = ast.literal_eval(rest), index
        elif keyword == "msgstr":
            current.msgstr[0], section = ast.literal_eval(rest), 0
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if isinstance(section, int):
                current.msgstr[section] += text
            else:
                setattr(current, section, getattr(current, section) + text)
        if current is not None and obsolete:
            current.obsolete = True
    return entries


def _messages() -> list[Entry]:
    assert NL_PO.exists(), f"{NL_PO.relative_to(BASE)} is missing: run makemessages -l nl"
    return [e for e in read_po(NL_PO) if e.msgid and not e.obsolete]


# %-format placeholders: %(name)s (also what blocktranslate makes of {{ var }}), %s, %d, %+g and %%.
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[sdifgeEr]|%[#0 +-]*\d*(?:\.\d+)?[sdifgeEr]|%%")


def placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)} - {"%%"}


# --------------------------------------------------------------------------- the Dutch catalogue


def test_dutch_catalogue_translates_every_msgid():
    entries = _messages()
    assert len(entries) > 100, "the catalogue looks empty: run makemessages for the whole project"
    missing = [
        f"{NL_PO.name}:{e.line}: {e.msgid!r}"
        for e in entries
        if not e.msgstr or any(not s.strip() for s in e.msgstr.values())
    ]
    assert not missing, f"{len(missing)} untranslated Dutch entries:\n" + "\n".join(missing)


def test_dutch_catalogue_has_no_fuzzy_entries():
    fuzzy = [f"{NL_PO.name}:{e.line}: {e.msgid!r}" for e in read_po(NL_PO) if "fuzzy" in e.flags and not e.obsolete]
    assert not fuzzy, "fuzzy entries are not used by gettext; check and unmark them:\n" + "\n".join(fuzzy)


def test_dutch_catalogue_header_declares_utf8_and_plurals():
    header = next(e for e in read_po(NL_PO) if e.msgid == "" and not e.obsolete)
    assert "charset=UTF-8" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]


def test_dutch_translations_keep_the_placeholders():
    wrong = []
    for e in _messages():
        allowed = placeholders(e.msgid) | placeholders(e.msgid_plural or "")
        if not allowed and "python-format" not in e.flags:
            continue
        for index, text in e.msgstr.items():
            source = e.msgid if (index == 0 or e.msgid_plural is None) else e.msgid_plural
            got, expected = placeholders(text), placeholders(source)
            # The singular of a plural may leave out the count (Dutch "één klant"); no other name may go.
            singular = index == 0 and e.msgid_plural is not None
            if got - allowed or (expected - got and not singular):
                wrong.append(f"{NL_PO.name}:{e.line}: {e.msgid!r} -> {text!r}")
    assert not wrong, "placeholders differ between English and Dutch:\n" + "\n".join(wrong)


def _formatted(msgid: str) -> bool:
    """Whether Django formats the text with %: a named placeholder, or template text with doubled %."""
    return "%(" in msgid or "%%" in msgid


def test_dutch_percent_signs_match_how_the_text_is_formatted():
    """Formatted text needs %% for a literal percent (a lone % breaks it); plain text needs a lone %."""
    wrong = []
    for e in _messages():
        for text in e.msgstr.values():
            rest = PLACEHOLDER.sub("", text)
            if _formatted(e.msgid) and "%" in rest:
                wrong.append(f"{NL_PO.name}:{e.line}: lone % in {text!r} (write %%)")
            if not _formatted(e.msgid) and "%%" in text:
                wrong.append(f"{NL_PO.name}:{e.line}: %% in {text!r} (plain text: write %)")
    assert not wrong, "\n".join(wrong)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
def test_dutch_catalogue_passes_msgfmt_check(tmp_path):
    """GNU msgfmt --check, with one adjustment: xgettext flags plain text such as "20 % of" as
    python-format (it reads "% o" as a directive); such text is never %-formatted, so the flag is dropped."""
    lines = NL_PO.read_text(encoding="utf-8").split("\n")
    entries = {e.line: e for e in read_po(NL_PO)}
    for number, line in enumerate(lines, start=1):
        if line.startswith("#,") and "python-format" in line:
            entry = next((entries[n] for n in range(number + 1, number + 4) if n in entries), None)
            if entry is not None and not _formatted(entry.msgid + (entry.msgid_plural or "")):
                lines[number - 1] = line.replace("python-format", "no-python-format")
    po = tmp_path / "django.po"
    po.write_text("\n".join(lines), encoding="utf-8")
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "check.mo"), str(po)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_pure_python_compiler_builds_a_loadable_catalogue(tmp_path):
    from customers.management.commands.compilemessages_if_needed import parse_po, write_mo

    messages = parse_po(NL_PO)
    mo = tmp_path / "django.mo"
    write_mo(messages, mo)
    with mo.open("rb") as fh:
        catalogue = gnu_gettext.GNUTranslations(fh)
    assert catalogue.info().get("content-type", "").lower().endswith("charset=utf-8")
    assert catalogue.gettext("Customers") == "Klanten"
    assert catalogue.gettext("Gross margin") == "Brutomarge"
    assert catalogue.ngettext("%(n)s customer", "%(n)s customers", 1) != "%(n)s customer"
    translated = [e for e in _messages() if "fuzzy" not in e.flags and all(e.msgstr.values())]
    assert len(messages) == len(translated) + 1  # every translated entry plus the header


def test_compilemessages_if_needed_writes_the_mo_files():
    from django.core.management import call_command

    call_command("compilemessages_if_needed")
    for po in (BASE / "locale").glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, f"{mo} was not compiled"
        with mo.open("rb") as fh:
            gnu_gettext.GNUTranslations(fh)


# --------------------------------------------------------------------------- Dutch at run time


@pytest.fixture
def compiled_catalogues():
    """Compile the catalogues (as `make test` does) and make Django load them afresh."""
    from django.core.management import call_command
    from django.utils.translation import trans_real

    call_command("compilemessages_if_needed")
    trans_real._translations = {}
    trans_real._default = None
    yield
    trans_real._translations = {}
    trans_real._default = None


def test_gettext_translates_known_strings_in_dutch(compiled_catalogues):
    from django.utils import translation

    from customers.models import Level

    with translation.override("nl"):
        assert translation.gettext("Customers") == "Klanten"
        assert translation.gettext("Revenue") == "Omzet"
        assert translation.gettext("Gross margin") == "Brutomarge"
        assert translation.gettext("Customer pyramid") == "Klantenpiramide"
        assert str(Level.TOP.label) == "Topklant"
        assert str(Level.INACTIVE.label) == "Inactief"
        assert translation.ngettext("%(n)s customer", "%(n)s customers", 3) % {"n": 3} == "3 klanten"
    with translation.override("en"):
        assert translation.gettext("Customers") == "Customers"
        assert str(Level.TOP.label) == "Top"


def test_money_is_formatted_per_language():
    from decimal import Decimal

    from django.utils import translation

    from customers.templatetags.kw import money, pct

    with translation.override("nl"):
        assert money(Decimal("1234.56")) == "€ 1.234,56"
        assert pct(0.653) == "65,3 %"
        assert money(Decimal("-2327275"), 0) == "\u2212€ 2.327.275"
        assert money(Decimal("-0.001")) == "€ 0,00"  # no minus on a zero
    with translation.override("en"):
        assert money(Decimal("1234.56")) == "€1,234.56"
        assert money(Decimal("-2327275"), 0) == "-€2,327,275"


def test_login_page_follows_accept_language(client, compiled_catalogues):
    dutch = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9,en;q=0.5")
    html = dutch.content.decode()
    assert '<html lang="nl">' in html
    assert "Inloggen" in html and "Gebruikersnaam" in html and "Wachtwoord" in html
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Log in" in english.content.decode()


def test_dashboard_is_dutch_for_a_dutch_browser(client, manager_user, small_dataset, compiled_catalogues):
    client.force_login(manager_user)
    html = client.get("/customers/dashboard/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    for dutch in ("Omzet", "Brutomarge", "Actieve klanten", "Klantenpiramide", "Uitloggen"):
        assert dutch in html, dutch
    for english in (">Revenue<", ">Gross margin<", ">Log out<"):
        assert english not in html, english
    assert re.search(r"€ \d{1,3}(\.\d{3})*", html), "money should use Dutch thousands separators"


def test_language_switcher_sets_dutch(client, manager_user, compiled_catalogues):
    client.force_login(manager_user)
    response = client.post("/i18n/setlang/", {"language": "nl", "next": "/customers/"})
    assert response.status_code == 302
    html = client.get("/customers/").content.decode()
    assert "Klanten" in html and '<html lang="nl">' in html


# --------------------------------------------------------------------------- the template scanner

#: Text that is the same in every language (file formats, product and technical names).
WHITELIST = {"CSV", "Excel", "htmx", "KPI", "ID", "€", "%", "xlsx", "csv"}
#: Attributes a user reads or hears (screen readers), checked like text.
VISIBLE_ATTRIBUTES = {
    "placeholder",
    "title",
    "aria-label",
    "alt",
    "aria-description",
    "aria-roledescription",
    "aria-valuetext",
    "data-label",
    "label",
}
#: Filters whose literal argument ends up on the page.
VISIBLE_FILTER_ARGUMENTS = re.compile(r"\|\s*(default|default_if_none|yesno)\s*:\s*(\"[^\"]*\"|'[^']*')")

_COMMENT = re.compile(r"\{#.*?#\}|\{%\s*comment\b.*?%\}.*?\{%\s*endcomment\s*%\}", re.S)
_BLOCKTRANSLATE = re.compile(
    r"\{%\s*blocktrans(?:late)?\b.*?%\}.*?\{%\s*endblocktrans(?:late)?\s*%\}",
    re.S,
)
_TEMPLATE_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
_RAW_ELEMENT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_TAG = re.compile(r"</?[a-zA-Z!][^>]*>")
_ATTRIBUTE = re.compile(r"""([^\s=<>/"']+)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_WORD = re.compile(r"[^\W\d_]{2,}")
MARK = "\x01"  # stands in for a template tag or variable: not text, never a letter


def _blank(match: re.Match, fill: str = " ") -> str:
    """The match replaced by ``fill`` characters, newlines kept (so offsets and lines stay put)."""
    return "".join(c if c == "\n" else fill for c in match.group(0))


def _mark(match: re.Match) -> str:
    return _blank(match, MARK)


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(unescape(_ENTITY.sub(lambda m: unescape(m.group(0)), text))) if w not in WHITELIST]


def _visible_attributes(tag: str) -> list[tuple[str, str]]:
    attributes = [(name.lower(), value.strip("\"'")) for name, value in _ATTRIBUTE.findall(tag)]
    names = dict(attributes)
    visible = [(n, v) for n, v in attributes if n in VISIBLE_ATTRIBUTES]
    if tag.lower().startswith("<input") and names.get("type", "").lower() in {"submit", "button", "reset"}:
        visible += [(n, v) for n, v in attributes if n == "value"]
    return visible


def untranslated(source: str) -> list[tuple[int, str]]:
    """(line, text) of every piece of user-visible text outside translation tags."""
    found: list[tuple[int, str]] = []

    def line_of(offset: int) -> int:
        return source.count("\n", 0, offset) + 1

    text = _COMMENT.sub(_blank, source)
    for match in VISIBLE_FILTER_ARGUMENTS.finditer(text):
        if _words(match.group(2)):
            found.append((line_of(match.start()), f"{match.group(0).lstrip('|').strip()} (filter argument)"))
    text = _BLOCKTRANSLATE.sub(_mark, text)
    text = _TEMPLATE_TAG.sub(_mark, text)
    text = _HTML_COMMENT.sub(_blank, text)
    text = _RAW_ELEMENT.sub(_blank, text)

    def tag(match: re.Match) -> str:
        for name, value in _visible_attributes(match.group(0)):
            if _words(value):
                found.append((line_of(match.start()), f'{name}="{value.replace(MARK, "").strip()}" (attribute)'))
        return _blank(match)

    text = _HTML_TAG.sub(tag, text)
    for lineno, line in enumerate(text.split("\n"), start=1):
        if _words(line):
            snippet = " ".join(line.replace(MARK, " ").split())
            found.append((lineno, snippet))
    return sorted(found)


def project_templates() -> list[Path]:
    return sorted(p for root in TEMPLATE_ROOTS if root.exists() for p in root.rglob("*.html"))


@pytest.mark.parametrize("template", project_templates(), ids=lambda p: str(p.relative_to(BASE)))
def test_template_has_no_untranslated_text(template: Path):
    problems = untranslated(template.read_text(encoding="utf-8"))
    where = template.relative_to(BASE)
    assert not problems, "text outside {% translate %}/{% blocktranslate %}:\n" + "\n".join(
        f"{where}:{line}: {text}" for line, text in problems
    )


# --------------------------------------------------------------------------- the scanner itself


@pytest.mark.parametrize(
    "source",
    [
        '{% load i18n %}<h1>{% translate "Customers" %}</h1>',
        "<p>{% blocktranslate with n=x %}Page {{ n }}\nof many{% endblocktranslate %}</p>",
        "<p>{% blocktranslate count n=x %}{{ n }} customer{% plural %}{{ n }} customers{% endblocktranslate %}</p>",
        "<p>{% blocktrans %}Old style{% endblocktrans %}</p>",
        "{% partialdef figures inline %}<td>{{ value|money }}</td>{% endpartialdef %}",
        '<a href="?format=csv" class="button secondary">CSV</a> · <a href="?format=xlsx">Excel</a>',
        "<td>{{ a }} → {{ b }}</td><td>–</td><td>12,5 %</td><td>€</td><td>#{{ rank }}</td>",
        '<input placeholder="{% translate \'Search\' %}" aria-label="{{ label }}" name="q" value="abc">',
        "<script>var label = 'Not shown';</script><style>.a::before { content: 'x y'; }</style>",
        "{# a comment #}{% comment %}Hidden text{% endcomment %}<!-- an html comment -->",
        '<option {% if a > b %}selected{% endif %} value="x">{{ label }}</option>',
        '{% include "x.html" with query="table=plan" %}{{ x|date:"SHORT_DATE_FORMAT" }}{{ y|default:"–" }}',
        '<canvas data-chart=\'{"type": "bar", "label": "Revenue"}\'></canvas>',
        "<p>&nbsp;&amp;&rarr;</p>",
    ],
)
def test_scanner_accepts_translated_markup(source):
    assert untranslated(source) == []


@pytest.mark.parametrize(
    ("source", "line", "text"),
    [
        ("<h1>Customers</h1>", 1, "Customers"),
        ('<p>\n  {% translate "Fine" %}\n  Not fine {{ x }}</p>', 3, "Not fine"),
        ('<input placeholder="Search">', 1, 'placeholder="Search" (attribute)'),
        ('<a title="Open {{ name }}">x</a>', 1, 'title="Open" (attribute)'),
        ('<img alt="Logo" src="x.png">', 1, 'alt="Logo" (attribute)'),
        ('<nav aria-label="Pages"></nav>', 1, 'aria-label="Pages" (attribute)'),
        ('<input type="submit" value="Save">', 1, 'value="Save" (attribute)'),
        ('{{ x|default:"none" }}', 1, 'default:"none" (filter argument)'),
        ("{% blocktranslate %}ok{% endblocktranslate %} but not this", 1, "but not this"),
        ("<title>Error</title>", 1, "Error"),
    ],
)
def test_scanner_reports_untranslated_text(source, line, text):
    assert (line, text) in untranslated(source)


# --------------------------------------------------------------------------- strings built in Python

GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext", "ngettext_lazy"}
PYTHON_ROOTS = ["config", "customers", "accounting", "scenarios", "salesforce_tasks"]


def python_msgids(source: str) -> list[tuple[int, str]]:
    """(line, msgid) of every string literal passed to a gettext function in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name not in GETTEXT_NAMES or not node.args:
            continue
        index = 1 if name.startswith("pgettext") else 0
        if (
            len(node.args) > index
            and isinstance(node.args[index], ast.Constant)
            and isinstance(node.args[index].value, str)
        ):
            found.append((node.lineno, node.args[index].value))
    return found


def project_python_files() -> list[Path]:
    files = []
    for root in PYTHON_ROOTS:
        files += [p for p in sorted((BASE / root).rglob("*.py")) if "migrations" not in p.parts]
    return files


def test_every_python_gettext_string_has_a_dutch_translation():
    """Text a page shows from Python (reasons, messages, labels) reaches Dutch pages in Dutch:
    a string wrapped in gettext but missing from the catalogue is shown in English."""
    translated = {e.msgid for e in read_po(NL_PO) if not e.obsolete and any(e.msgstr.values())}
    missing = []
    for path in project_python_files():
        for line, msgid in python_msgids(path.read_text(encoding="utf-8")):
            if msgid and msgid not in translated:
                missing.append(f"{path.relative_to(BASE)}:{line}: {msgid!r}")
    assert not missing, "not in the Dutch catalogue (run makemessages -l nl and translate):\n" + "\n".join(missing)


def test_python_scanner_finds_gettext_literals():
    source = 'from django.utils.translation import gettext as _\nx = _("Over-served: %(n)s")\ny = "plain"\n'
    assert python_msgids(source) == [(2, "Over-served: %(n)s")]
