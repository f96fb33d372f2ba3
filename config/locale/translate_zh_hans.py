"""Extract, translate and compile the Simplified Chinese (zh_Hans) catalogue of the portal.

Run from the repository root after adding or changing user-facing strings:

    .venv/bin/python config/locale/translate_zh_hans.py            # extract, fill, compile
    .venv/bin/python config/locale/translate_zh_hans.py --check    # the same; exit 1 if any msgid is untranslated
    .venv/bin/python config/locale/translate_zh_hans.py --no-extract   # fill and compile only (no GNU gettext)

1. `manage.py makemessages -l zh_Hans ... --no-location` (and `-d djangojs` when a JavaScript file
   outside the ignored folders calls gettext). Extraction needs GNU gettext (xgettext, msgmerge);
   nothing else does.
2. Every msgstr is filled from `TERMS` in config/locale/zh_hans_terms.py, the source of truth.
   Fuzzy guesses of msgmerge are dropped; a translation already in the .po that the dictionary
   does not have is kept (and listed, so it can be moved into the dictionary). Placeholders
   (%(name)s, %s, {0}) and HTML tags must be the same in the translation as in the msgid.
3. The .mo is compiled with polib (pure Python), so compiling needs no gettext either. The .po and
   .mo are only rewritten when a translation changed: a re-run with nothing new leaves no diff.
4. The msgids still without a translation are printed; with --check the exit status is then 1.
   A dictionary entry that breaks a placeholder always exits with status 2.
"""

import argparse
import datetime as dt
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "config" / "locale"
LOCALE = "zh_Hans"
LC_MESSAGES = LOCALE_DIR / LOCALE / "LC_MESSAGES"
TERMS_FILE = LOCALE_DIR / "zh_hans_terms.py"
IGNORED = (".venv", "tests", "staticfiles", "media")
MAKEMESSAGES = [
    "makemessages",
    "-l",
    LOCALE,
    *(f"--ignore={folder}" for folder in IGNORED),
    "--no-location",
]
HEADER = {
    "Project-Id-Version": "Health Kit case portal",
    "Report-Msgid-Bugs-To": "",
    "Last-Translator": "config/locale/zh_hans_terms.py",
    "Language-Team": "Simplified Chinese",
    "Language": LOCALE,
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "8bit",
    "Plural-Forms": "nplurals=1; plural=0;",
}
HEADER_COMMENT = (
    "Simplified Chinese catalogue of the Health Kit case portal.\n"
    "Written by config/locale/translate_zh_hans.py from config/locale/zh_hans_terms.py: edit the dictionary, not this file."
)
DATE_KEYS = ("POT-Creation-Date", "PO-Revision-Date")

PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
BRACES = re.compile(r"\{[^{}]*\}")
TAG = re.compile(r"</?[A-Za-z][^<>]*>")
JS_CALL = re.compile(r"\b(?:n|p|np)?gettext\s*\(|\binterpolate\s*\(")


def fail(message: str, status: int = 2) -> None:
    print(f"translate_zh_hans: {message}", file=sys.stderr)
    sys.exit(status)


def load_terms() -> dict:
    spec = importlib.util.spec_from_file_location("zh_hans_terms", TERMS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    terms = module.TERMS
    for key, value in terms.items():
        ok_key = isinstance(key, str) or (
            isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key)
        )
        if not ok_key:
            fail(f"{TERMS_FILE.name}: a key is a msgid or a (msgctxt, msgid) pair, not {key!r}")
        if not isinstance(value, str) or not value.strip():
            fail(f"{TERMS_FILE.name}: the translation of {key!r} is empty or not a string")
    return terms


def js_has_strings() -> bool:
    """Whether a JavaScript file outside the ignored folders calls gettext (then djangojs is extracted)."""
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in IGNORED and d != "node_modules"]
        for name in files:
            if name.endswith(".js"):
                text = Path(folder, name).read_text(encoding="utf-8", errors="replace")
                if JS_CALL.search(text):
                    return True
    return False


def extract() -> list[str]:
    missing = [tool for tool in ("xgettext", "msgmerge", "msguniq") if shutil.which(tool) is None]
    if missing:
        fail(
            f"GNU gettext is needed to extract messages ({', '.join(missing)} not found): "
            "`apt-get install -y gettext`, or run with --no-extract to fill and compile the existing .po only."
        )
    domains = ["django"] + (["djangojs"] if js_has_strings() else [])
    for domain in domains:
        command = [sys.executable, "manage.py", *MAKEMESSAGES, "-d", domain]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            fail(f"{' '.join(command[1:])} failed:\n{done.stdout}{done.stderr}")
    return domains


def placeholders(text: str, python_format: bool) -> Counter:
    found = TAG.findall(text) + BRACES.findall(text)
    if python_format:
        found += PRINTF.findall(text)
    return Counter(found)


def key_of(entry: polib.POEntry):
    return (entry.msgctxt, entry.msgid) if entry.msgctxt else entry.msgid


def without_dates(text: str) -> str:
    return re.sub(r'^"(?:POT-Creation-Date|PO-Revision-Date): .*\\n"$', "", text, flags=re.MULTILINE)


def fill(po: polib.POFile, terms: dict, report: dict) -> None:
    for entry in po.obsolete_entries():
        po.remove(entry)
    for entry in po:
        was_fuzzy = "fuzzy" in entry.flags
        if was_fuzzy:
            entry.flags.remove("fuzzy")
        entry.previous_msgctxt = entry.previous_msgid = entry.previous_msgid_plural = None
        key = key_of(entry)
        report["seen"].add(key)
        value = terms.get(key)
        python_format = "python-format" in entry.flags
        if value is not None:
            # Chinese has one form for every count: it follows the plural msgid, which names the count.
            wanted = placeholders(entry.msgid_plural or entry.msgid, python_format)
            if placeholders(value, python_format) != wanted:
                report["errors"].append(f"{key!r}: placeholders or tags differ in {value!r}")
                value = None
        if value is None:
            current = entry.msgstr_plural.get(0, "") if entry.msgid_plural else entry.msgstr
            if current and not was_fuzzy:
                report["kept"].append(key)
                continue
            value = ""
            report["missing"].append(key)
        if entry.msgid_plural:
            entry.msgstr_plural = {0: value}
            entry.msgstr = ""
        else:
            entry.msgstr = value


def process(path: Path, old_text: str | None, terms: dict, report: dict) -> None:
    po = polib.pofile(str(path), wrapwidth=0)
    dates = {k: po.metadata.get(k, "") for k in DATE_KEYS}
    po.header = HEADER_COMMENT
    po.metadata = {**HEADER, **dates}
    po.metadata_is_fuzzy = False  # a fuzzy header would be ignored by msgfmt (no Plural-Forms)
    fill(po, terms, report)
    report["total"] += len(po)
    report["translated"] += len(po.translated_entries())
    new_text = str(po)
    if old_text is not None and without_dates(new_text) == without_dates(old_text):
        path.write_text(old_text, encoding="utf-8")  # nothing changed but makemessages' timestamp
        po = polib.pofile(str(path), wrapwidth=0)
    else:
        po.metadata["PO-Revision-Date"] = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M%z")
        po.save(str(path))
        report["written"].append(path)
    mo_path = path.with_suffix(".mo")
    binary = po.to_binary()
    if not mo_path.exists() or mo_path.read_bytes() != binary:
        mo_path.write_bytes(binary)
        report["written"].append(mo_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a msgid has no translation")
    parser.add_argument("--no-extract", action="store_true", help="skip makemessages (no GNU gettext needed)")
    args = parser.parse_args()

    terms = load_terms()
    old = {p: p.read_text(encoding="utf-8") for p in LC_MESSAGES.glob("*.po")}
    if not args.no_extract:
        extract()
    paths = sorted(LC_MESSAGES.glob("*.po"))
    if not paths:
        fail(f"no .po file in {LC_MESSAGES.relative_to(ROOT)}: run without --no-extract first")

    report = {"total": 0, "translated": 0, "seen": set(), "missing": [], "kept": [], "errors": [], "written": []}
    for path in paths:
        process(path, old.get(path), terms, report)

    for path in report["written"]:
        print(f"wrote {path.relative_to(ROOT)}")
    unused = [key for key in terms if key not in report["seen"]]
    if unused:
        print(f"\n{len(unused)} dictionary entries match no msgid now (remove them if the string is gone):")
        for key in unused:
            print(f"  {key!r}")
    if report["kept"]:
        print(f"\n{len(report['kept'])} translations kept from the .po but missing from {TERMS_FILE.name} (add them):")
        for key in report["kept"]:
            print(f"  {key!r}")
    if report["missing"]:
        print(f"\n{len(report['missing'])} msgids without a translation (add them to {TERMS_FILE.name}):")
        for key in report["missing"]:
            print(f"  {key!r}")
    if report["errors"]:
        print(f"\n{len(report['errors'])} dictionary entries rejected:", file=sys.stderr)
        for error in report["errors"]:
            print(f"  {error}", file=sys.stderr)
    print(f"\n{report['translated']} of {report['total']} msgids translated ({LOCALE}).")
    if report["errors"]:
        sys.exit(2)
    if args.check and report["missing"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
