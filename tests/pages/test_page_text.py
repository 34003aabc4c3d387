"""What every page of each role says: Dutch pages hold no English, every number is formatted.

The demo data set (150 customers) is loaded once for this module, inside a transaction that is
rolled back at the end. Every page of each role (rep, manager, finance) is found from the URLconf
(tests/role_pages.py, like the phone test), plus one customer page with each of its tabs and the
partials those pages load by themselves (a tab's panel), and rendered by the Django test client in
Dutch and in English (the language cookie). The visible text (body minus script, style, code)
is then read:

* in Dutch, a word from ENGLISH_WORDS (common English words that are not Dutch) is English a
  translation missed;
* in either language, a run of 5 or more digits without thousands separators is an unformatted
  number (64895 min, -€89352.00), and so is a 4-digit count before a unit (2000 customers,
  1040 days) or after a euro sign. Other 4-digit numbers are left alone: years (2025), ids.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, TestCase, override_settings

from tests.role_pages import ROLES, lazy_fragments, pages_of, visible_text

LANGUAGES = ("nl", "en")

#: Common English words that are not Dutch words (so "of", "in", "is", "was", "over", "order(s)",
#: "team", "per", "open" are not here: they are Dutch too).
ENGLISH_WORDS = frozenset(
    """
    the and with without none total totals customer customers revenue profit profits visit visits
    target targets save delete cancel search level levels loss losses cost costs from this that
    these those your you our their which what when where why who how not all any only also more
    less than then there here has have are were been being will would should could must
    can't don't isn't for by to into onto about after before between each every other same
    new old yes no show hide back next previous page pages period periods year years month months
    week weeks day days today yesterday tomorrow minutes hours number amount share shares price
    prices sales sale margin gross net rate key keys pool pools action actions proposed agreed
    dropped done approved rejected pending waiting owner owners pair pairs manager managers
    finance budget plan planned actual actuals growth
    strategy strategies effective effectiveness median overdue last first
    see view edit change changes changed add added remove removed download upload
    file files error errors warning please must need needs needed
    high low small big medium top inactive prospect suspect value values customer's
    """.split()
)
#: Words in the list that the Dutch pages legitimately use (loanwords, product names); keep short.
DUTCH_TOO = frozenset(
    {"top", "budget", "plan", "pool", "pools", "manager", "managers", "sales", "finance", "prospect", "suspect"}
)

#: A number needing thousands separators: 5+ digits in a row (not part of a grouped number, a
#: decimal tail, an id such as C01234, or a longer token), or a 4-digit count before a unit or after €.
LONG_NUMBER = re.compile(r"(?<![\w.,])(?<!\w-)\d{5,}(?!\d)")
UNIT_WORDS = (
    r"customers?|klanten?|min|minutes?|minuten|days?|dagen|orders?|lines?|regels|visits?|bezoeken|"
    r"hours?|uur|products?|producten|rows?|rijen|points?|punten|pts|invoices?|facturen"
)
COUNT_BEFORE_UNIT = re.compile(rf"(?<![\w.,\d])(\d{{4}})\s+(?:{UNIT_WORDS})\b", re.I)
EURO_NUMBER = re.compile(r"€\s?(\d{4,})")


@pytest.fixture(scope="module")
def rendered(django_db_setup, django_db_blocker):
    """{(role, language): {url: [visible text pieces]}} for every page of each role."""
    from django.core.management import call_command
    from django.utils.translation import trans_real

    from config.celery import app

    app.conf.task_always_eager = True
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    call_command("compilemessages_if_needed")
    trans_real._translations, trans_real._default = {}, None
    result: dict[tuple[str, str], dict[str, list[str]]] = {}
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True, CACHES=caches), django_db_blocker.unblock():
        with transaction.atomic():
            with TestCase.captureOnCommitCallbacks(execute=True):
                call_command("load_demo", customers=150, seed=7, verbosity=0)
            from django.contrib.auth.models import User

            for role, (username, _password) in ROLES.items():
                for language in LANGUAGES:
                    client = Client()
                    client.force_login(
                        User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend"
                    )
                    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
                    texts = {}
                    for url in pages_of(client):
                        html = client.get(url).content.decode()
                        texts[url] = visible_text(html)
                        for fragment in lazy_fragments(html):
                            response = client.get(fragment, HTTP_HX_REQUEST="true")
                            if response.status_code == 200:
                                texts[f"{url} -> {fragment}"] = visible_text(response.content.decode())
                    result[(role, language)] = texts
            transaction.set_rollback(True)
    trans_real._translations, trans_real._default = {}, None
    return result


def english_in(text: str) -> list[str]:
    """English words in ``text``; file names and codes (example-costs.csv, F2025-000623) are skipped."""
    words = []
    for token in text.split():
        if re.search(r"\w[._/]\w", token):
            continue
        words += [w for w in re.findall(r"[A-Za-z][a-z']+", token) if w.lower() in ENGLISH_WORDS - DUTCH_TOO]
    return words


def unformatted_numbers(text: str) -> list[str]:
    found = [m.group(0) for m in LONG_NUMBER.finditer(text)]
    found += [m.group(0) for m in COUNT_BEFORE_UNIT.finditer(text)]
    found += [m.group(0) for m in EURO_NUMBER.finditer(text)]
    return found


@pytest.mark.django_db  # so that pytest-django sets the test database up for the module fixture
def test_the_pages_cover_each_role_and_the_customer_tabs(rendered):
    for role in ROLES:
        urls = rendered[(role, "nl")]
        assert len(urls) >= 8, (role, sorted(urls))
        assert any("?tab=profit ->" in u for u in urls), role  # a customer tab's panel was read
    assert "/sales/visits/" in rendered[("rep", "nl")] and "/accounting/pools/" in rendered[("finance", "nl")]


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ROLES))
def test_dutch_pages_show_no_english(rendered, role):
    found = []
    for url, pieces in rendered[(role, "nl")].items():
        for piece in pieces:
            if words := english_in(piece):
                found.append(f"{url}: {', '.join(words)} in {piece[:160]!r}")
    assert not found, f"English on {role}'s Dutch pages ({len(found)}):\n" + "\n".join(sorted(set(found)))


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", list(ROLES))
def test_every_number_has_thousands_separators(rendered, role, language):
    found = []
    for url, pieces in rendered[(role, language)].items():
        for piece in pieces:
            if numbers := unformatted_numbers(piece):
                found.append(f"{url}: {', '.join(numbers)} in {piece[:160]!r}")
    assert not found, f"unformatted numbers on {role}'s pages in {language}:\n" + "\n".join(sorted(set(found)))


# --------------------------------------------------------------------------- the detectors themselves


@pytest.mark.parametrize(
    "text",
    [
        "Omzet van de klant per periode",
        "Topklant · 2025 · of per order",
        "Het team was over het budget in 2024",
        "Kostenpools en verdeelsleutels",
    ],
)
def test_dutch_text_passes(text):
    assert english_in(text) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Why: the customer is loss-making", ["Why", "the", "customer", "loss"]),
        ("Delete target", ["Delete", "target"]),
        ("doelstelling big", ["big"]),
        ("Omzet zonder revenue", ["revenue"]),
    ],
)
def test_english_words_are_found(text, words):
    assert english_in(text) == words


@pytest.mark.parametrize(
    "text", ["2.000 klanten", "2,000 customers", "64.895 min", "−€ 89.352,00", "-€89,352.00", "2025", "C01234"]
)
def test_formatted_numbers_pass(text):
    assert unformatted_numbers(text) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("2000 customers", ["2000 customers"]),
        ("64895 min", ["64895"]),
        ("-€89352.00", ["89352", "€89352"]),
        ("1040 dagen te laat", ["1040 dagen"]),
        ("Klanten 2024: 1.234", []),  # a year, a grouped number
    ],
)
def test_unformatted_numbers_are_found(text, found):
    assert unformatted_numbers(text) == found


# --------------------------------------------------------------------------- counts in translated text

_BLOCKTRANSLATE = re.compile(
    r"\{%\s*blocktrans(?:late)?\b(?P<args>[^%]*)%\}(?P<body>.*?)\{%\s*endblocktrans(?:late)?\s*%\}", re.S
)


def raw_counters(source: str) -> list[str]:
    """Counters of ``{% blocktranslate count n=... %}`` shown as they are: ``{{ n }}`` prints 2000, not
    2,000 / 2.000. The counter picks the plural; show a formatted copy (``with shown=...|number``)."""
    found = []
    for match in _BLOCKTRANSLATE.finditer(source):
        counter = re.search(r"\bcount\s+(\w+)\s*=", match.group("args"))
        if counter and re.search(r"\{\{\s*" + counter.group(1) + r"\s*\}\}", match.group("body")):
            found.append(" ".join(match.group(0).split())[:120])
    return found


def test_translated_counts_are_shown_formatted():
    from tests.test_i18n import BASE, project_templates

    found = [f"{t.relative_to(BASE)}: {block}" for t in project_templates() for block in raw_counters(t.read_text())]
    assert not found, "a blocktranslate count shows its raw counter:\n" + "\n".join(found)


def test_raw_counters_are_found():
    assert raw_counters(
        "{% blocktranslate count n=x %}{{ n }} customer{% plural %}{{ n }} customers{% endblocktranslate %}"
    )
    assert not raw_counters(
        "{% blocktranslate count n=x with shown=x|number %}{{ shown }} customer{% plural %}{{ shown }} customers"
        "{% endblocktranslate %}"
    )
