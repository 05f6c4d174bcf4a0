"""Keep the message catalogs in step with the code (needs Babel: ``pip install babel``).

    python tools/messages.py           # extract, merge and compile
    python tools/messages.py --check   # exit 1 (and say what) if anything is stale

1. extract: every ``_("...")``, ``N_("...")`` and ``_n("...", "...", n)`` in cnn_magic/ →
   ``cnn_magic/locale/cnn_magic.pot`` (the English messages, in source order);
2. merge: the template into each language's ``.po``: new messages arrive untranslated,
   messages gone from the code are dropped, translations kept;
3. compile: each ``.po`` → the ``.mo`` that ``gettext`` reads at run time.

Translate by editing the ``.po`` (``msgstr``), then run this again. Output is
deterministic (fixed dates, no line numbers), so a stale file shows as a diff.
"""

from __future__ import annotations

import io
import sys
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "cnn_magic"
LOCALE = PACKAGE / "locale"
DOMAIN = "cnn_magic"
TEMPLATE = LOCALE / f"{DOMAIN}.pot"
LANGUAGES = ("zh",)  # English is the source text
KEYWORDS = {"_": None, "N_": None, "_n": (1, 2)}
DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)  # fixed: regenerating changes nothing
WIDTH = 100
HEADER = (
    "# Messages of cnn_magic: the English text is the msgid.\n"
    "# Made by tools/messages.py; translate the msgstr lines, then run it again.\n"
    "# Numbers, formulas and layer words stay as they are; {placeholders} stay too."
)


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def _catalog(locale: str | None = None) -> Catalog:
    return Catalog(
        locale=locale,
        domain=DOMAIN,
        project="cnn_magic",
        header_comment=HEADER,
        version="0.1.0",
        copyright_holder="cnn_magic developers",
        msgid_bugs_address="https://github.com/cnn-magic/cnn_magic/issues",
        last_translator="cnn_magic developers",
        language_team="cnn_magic developers",
        creation_date=DATE,
        revision_date=DATE,
        fuzzy=False,
    )


def template() -> Catalog:
    """Every message of the code, in the order it first appears (files sorted)."""
    catalog = _catalog()
    found = extract_from_dir(
        str(PACKAGE),
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    )
    for filename, _lineno, message, comments, context in sorted(found, key=lambda m: m[0]):
        catalog.add(
            message,
            locations=[(f"cnn_magic/{filename}", None)],  # type: ignore[list-item]
            auto_comments=comments,
            context=context,
        )
    return catalog


def merged(lang: str, pot: Catalog) -> Catalog:
    """``lang``'s catalog brought up to the template: translations kept where the
    message is unchanged, new messages empty, removed ones dropped."""
    path = po_path(lang)
    if path.exists():
        with path.open("rb") as file:
            catalog = read_po(file, locale=lang, domain=DOMAIN)
    else:
        catalog = _catalog(lang)
    catalog.update(pot, no_fuzzy_matching=True, update_header_comment=True)
    catalog.obsolete.clear()
    catalog.creation_date = catalog.revision_date = DATE
    catalog.fuzzy = False
    return catalog


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=WIDTH, include_lineno=False, sort_output=False)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def compiled(lang: str) -> bytes:
    """The ``.mo`` that the committed ``.po`` of ``lang`` compiles to."""
    with po_path(lang).open("rb") as file:
        return mo_bytes(read_po(file, locale=lang, domain=DOMAIN))


def wanted() -> dict[Path, bytes]:
    """Every catalog file as it should be."""
    pot = template()
    files = {TEMPLATE: po_bytes(pot)}
    for lang in LANGUAGES:
        catalog = merged(lang, pot)
        files[po_path(lang)] = po_bytes(catalog)
        files[mo_path(lang)] = mo_bytes(catalog)
    return files


def main(argv: list[str]) -> int:
    stale = []
    for path, content in wanted().items():
        if path.exists() and path.read_bytes() == content:
            continue
        stale.append(path.relative_to(REPO))
        if "--check" not in argv:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    verb = "stale" if "--check" in argv else "written"
    for path in stale:
        print(f"{verb}: {path}")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
