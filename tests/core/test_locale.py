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
