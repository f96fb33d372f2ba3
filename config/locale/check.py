"""Check the Simplified Chinese catalogue, the source of every translation (config/locale/README.md).

    .venv/bin/python config/locale/check.py        # run by `make lint`, hence by CI

It fails (exit 1, one line per problem) when
- the code has a message the .po lacks, or the .po keeps one the code no longer has: `makemessages`
  (GNU gettext's xgettext and msgmerge) is run on the code and its messages compared with the
  committed .po, which is then put back byte for byte, so the check never edits the catalogue;
- an entry is untranslated or fuzzy;
- a translation's placeholders (`%(name)s`, `%s`, `{0}`) or HTML tags differ from its msgid's
  (a plural's single Chinese form follows the plural msgid, which names the count);
- `msgfmt --check` refuses the .po;
- the committed .mo is not the .po compiled (`make messages` compiles it).

Needs GNU gettext (`apt-get install -y gettext`; .ci/run installs it). Running the portal needs no
gettext: Django reads the committed .mo.
"""

import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "config" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# The same command as `make messages`.
MAKEMESSAGES = [
    "makemessages",
    "-l",
    "zh_Hans",
    "-d",
    "django",
    "--ignore=.venv",
    "--ignore=tests",
    "--ignore=staticfiles",
    "--ignore=media",
    "--no-location",
    "--no-wrap",
    "--no-obsolete",
]
TOOLS = ("xgettext", "msgmerge", "msguniq", "msgfmt")

PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
BRACES = re.compile(r"\{[^{}]*\}")
TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def key_of(entry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def placeholders(text: str, python_format: bool) -> Counter:
    found = TAG.findall(text) + BRACES.findall(text)
    if python_format:
        found += PRINTF.findall(text)
    return Counter(found)


def translations(entry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def entry_problems(po: polib.POFile) -> list[str]:
    """Untranslated, fuzzy and placeholder problems of the catalogue's entries."""
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        name = repr(entry.msgid) + (f" (context {entry.msgctxt!r})" if entry.msgctxt else "")
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {name}")
        texts = translations(entry)
        if not texts or any(not text.strip() for text in texts):
            problems.append(f"untranslated: {name}")
            continue
        python_format = "python-format" in entry.flags
        wanted = placeholders(entry.msgid_plural or entry.msgid, python_format)
        for text in texts:
            if placeholders(text, python_format) != wanted:
                problems.append(f"placeholders or tags differ: {name} -> {text!r}")
    return problems


def extracted_keys() -> set[tuple[str, str]]:
    """The messages of the code today, by running makemessages; the committed .po is restored."""
    original = PO.read_bytes()
    try:
        done = subprocess.run(
            [sys.executable, "manage.py", *MAKEMESSAGES], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"check: makemessages failed:\n{done.stdout}{done.stderr}")
        return {key_of(e) for e in polib.pofile(str(PO)) if not e.obsolete}
    finally:
        PO.write_bytes(original)


def mo_problems(po: polib.POFile) -> list[str]:
    """`msgfmt --check` on the .po, and the committed .mo against the .po compiled."""
    with tempfile.TemporaryDirectory() as folder:
        compiled = Path(folder) / "django.mo"
        done = subprocess.run(
            ["msgfmt", "--check", "-o", str(compiled), str(PO)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            return [f"msgfmt --check refuses the .po:\n{done.stderr.strip()}"]
        if not MO.exists():
            return ["the compiled catalogue django.mo is missing: run `make messages`"]

        def content(path: Path) -> dict:
            return {key_of(e): tuple(translations(e)) for e in polib.mofile(str(path)) if e.msgid}

        if content(compiled) != content(MO):
            return ["django.mo is not the .po compiled: run `make messages` and commit both"]
    return []


def main() -> int:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        print(f"check: GNU gettext is needed ({', '.join(missing)} not found): apt-get install -y gettext")
        return 1
    po = polib.pofile(str(PO))
    committed = {key_of(e) for e in po if not e.obsolete}
    code = extracted_keys()
    problems = [
        f"in the code, not in the .po (run `make messages`): {msgid!r}" for _, msgid in sorted(code - committed)
    ]
    problems += [
        f"in the .po, no longer in the code (run `make messages`): {msgid!r}" for _, msgid in sorted(committed - code)
    ]
    problems += [f"obsolete entry kept: {e.msgid!r}" for e in po.obsolete_entries()]
    problems += entry_problems(po)
    problems += mo_problems(po)
    for line in problems:
        print(f"check: {line}")
    total = len(committed)
    print(
        f"check: {total - len([p for p in problems if p.startswith(('untranslated', 'fuzzy'))])} of {total} messages translated"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
