"""The Chinese catalogue is complete and compiled (a fresh machine needs no gettext)."""

from pathlib import Path

import polib
from django.conf import settings
from django.utils import translation

PO = Path(settings.BASE_DIR) / "config" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_chinese_translation_and_the_compiled_catalogue_matches():
    po = polib.pofile(str(PO))
    assert po.untranslated_entries() == [] and po.fuzzy_entries() == []
    mo = polib.mofile(str(PO.with_suffix(".mo")))
    assert {e.msgid: e.msgstr for e in mo if not e.msgid_plural} == {
        e.msgid: e.msgstr for e in po.translated_entries() if not e.msgid_plural
    }


def test_no_entry_is_fuzzy_or_breaks_a_placeholder():
    """The checks of config/locale/check.py that need no GNU gettext (make lint runs the rest)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("locale_check", PO.parents[2] / "check.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    assert check.entry_problems(polib.pofile(str(PO))) == []
    broken = polib.POFile()
    broken.append(polib.POEntry(msgid="%(n)s persons", msgstr="人", flags=["python-format"]))
    broken.append(polib.POEntry(msgid="Save", msgstr="保存", flags=["fuzzy"]))
    assert len(check.entry_problems(broken)) == 2, "the check can fail"


def test_the_interface_speaks_chinese_by_default_and_english_on_request():
    with translation.override("zh-hans"):
        assert translation.gettext("Health Kit case portal") != "Health Kit case portal"
    with translation.override("en"):
        assert translation.gettext("Health Kit case portal") == "Health Kit case portal"


def test_every_translated_call_is_one_makemessages_extracts():
    """makemessages extracts `_`, `gettext`, `gettext_lazy`, `ngettext`, `pgettext`… by name only:
    a call through another alias (`gettext as _t`) is never in the catalogue, so its English shows
    on the Chinese screens."""
    import pathlib
    import re

    alias = re.compile(r"from django\.utils\.translation import .*\b(\w*gettext\w*) as (\w+)")
    bad = []
    for path in pathlib.Path("apps").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = alias.search(line)
            if match and match.group(2) != "_":
                bad.append(f"{path}: {line.strip()}")
    assert bad == []
