"""Compile the .po catalogues to .mo without GNU gettext (a fresh machine may lack msgfmt)."""

import ast
import struct
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def _unquote(s: str) -> str:
    return ast.literal_eval(s)


def parse_po(path: Path) -> dict[str, str]:
    """Entries msgid -> msgstr (plural forms joined by NUL as gettext expects); fuzzy skipped."""
    messages: dict[str, str] = {}
    msgctxt = msgid = msgid_plural = None
    msgstr: dict[int, str] = {}
    section = None
    fuzzy = False

    def flush():
        nonlocal msgctxt, msgid, msgid_plural, msgstr, fuzzy
        if msgid is not None and (not fuzzy or msgid == ""):  # keep a fuzzy header: it names the charset
            key = msgid if msgid_plural is None else msgid + "\0" + msgid_plural
            if msgctxt is not None:
                key = msgctxt + "\x04" + key
            value = "\0".join(msgstr[i] for i in sorted(msgstr))
            if value.replace("\0", "") or msgid == "":
                messages[key] = value
        msgctxt = msgid = msgid_plural = None
        msgstr = {}
        fuzzy = False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            if msgid is not None:
                flush()
            fuzzy = True
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgctxt"):
            if msgid is not None:
                flush()
            msgctxt, section = _unquote(line[7:].strip()), "ctxt"
        elif line.startswith("msgid_plural"):
            msgid_plural, section = _unquote(line[12:].strip()), "plural"
        elif line.startswith("msgid"):
            if msgid is not None:
                f = fuzzy
                flush()
                fuzzy = f and False
            msgid, section = _unquote(line[5:].strip()), "id"
        elif line.startswith("msgstr["):
            idx = int(line[7 : line.index("]")])
            msgstr[idx], section = _unquote(line[line.index("]") + 1 :].strip()), ("str", idx)
        elif line.startswith("msgstr"):
            msgstr[0], section = _unquote(line[6:].strip()), ("str", 0)
        elif line.startswith('"'):
            text = _unquote(line)
            if section == "ctxt":
                msgctxt += text
            elif section == "id":
                msgid += text
            elif section == "plural":
                msgid_plural += text
            elif isinstance(section, tuple):
                msgstr[section[1]] += text
    flush()
    return messages


def write_mo(messages: dict[str, str], path: Path) -> None:
    keys = sorted(messages)
    ids = b""
    strs = b""
    offsets = []
    for k in keys:
        kb, vb = k.encode(), messages[k].encode()
        offsets.append((len(ids), len(kb), len(strs), len(vb)))
        ids += kb + b"\0"
        strs += vb + b"\0"
    n = len(keys)
    keystart = 7 * 4 + 16 * n
    valuestart = keystart + len(ids)
    koffsets, voffsets = [], []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + keystart]
        voffsets += [l2, o2 + valuestart]
    output = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    output += struct.pack(f"{len(koffsets)}i", *koffsets) + struct.pack(f"{len(voffsets)}i", *voffsets)
    path.write_bytes(output + ids + strs)


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/django.po to .mo when the .po is newer (pure Python)."

    def handle(self, *args, **options):
        for locale_dir in settings.LOCALE_PATHS:
            for po in Path(locale_dir).glob("*/LC_MESSAGES/*.po"):
                mo = po.with_suffix(".mo")
                if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                    write_mo(parse_po(po), mo)
                    self.stdout.write(f"compiled {mo}")
