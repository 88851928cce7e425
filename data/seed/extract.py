#!/usr/bin/env python3
"""Regenerates the demo seed data of motcua from the shared data sets (python3 stdlib only).

    python3 data/seed/extract.py [--shared ../shared/data]

Writes, next to this script:
  lam-dong-units.csv            Lâm Đồng (province 68) + its 124 commune-level units
  procedures-lam-dong.jsonl.gz  the chosen procedure records, NFC-normalized, otherwise unchanged
  LICENSE.thanglequoc.txt       the MIT license of the units data, copied unchanged

Deterministic: same input, same bytes out (sorted rows, gzip mtime 0, no file name in the header).
"""

import argparse
import csv
import gzip
import io
import json
import os
import sys
import unicodedata

PROVINCE = "68"
HERE = os.path.dirname(os.path.abspath(__file__))

# Sampling: every K-th of the eligible records not already chosen by a rule below.
K = 8
# Commune-level procedures of these ministries are the core of a commune one-stop desk: keep all.
CORE_COMMUNE_DIRS = ("bo-tu-phap", "bo-cong-an")
# Province-level fields kept in full: the seed marks them inter-agency (liên thông).
INTER_AGENCY_FIELDS = ("Đất đai", "Hoạt động xây dựng")


def nfc(value):
    """NFC-normalizes every string inside a JSON value, keeping keys and their order."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc(v) for v in value]
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    return value


def levels(rec):
    return [p.strip() for p in rec["cap_thuc_hien"].split(",")]


def has_cooperation(rec):
    text = rec["co_quan_phoi_hop"].strip()
    return text != "" and text != "Không có thông tin"


def write_units(shared):
    src = os.path.join(shared, "vn-admin-units-2025")
    rows = []
    with open(os.path.join(src, "provinces.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["code"] == PROVINCE:
                rows.append([r["code"], r["name"], r["full_name"], ""])
    with open(os.path.join(src, "wards.csv"), newline="", encoding="utf-8") as f:
        wards = [r for r in csv.DictReader(f) if r["province_code"] == PROVINCE]
    wards.sort(key=lambda r: r["code"])
    with open(os.path.join(src, "LICENSE.thanglequoc.txt"), "rb") as f:
        license_text = f.read()
    with open(os.path.join(HERE, "LICENSE.thanglequoc.txt"), "wb") as f:
        f.write(license_text)
    for r in wards:
        rows.append([r["code"], r["name"], r["full_name"], r["province_code"]])
    rows = [[unicodedata.normalize("NFC", c) for c in row] for row in rows]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["code", "name", "full_name", "province_code"])
    w.writerows(rows)
    with open(os.path.join(HERE, "lam-dong-units.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(out.getvalue())
    return len(wards)


def choose(records):
    """Deterministic choice; returns (chosen records sorted by code, counts by rule)."""
    eligible = [
        r for r in records if "Cấp tỉnh" in levels(r) or "Cấp xã" in levels(r)
    ]
    eligible.sort(key=lambda r: r["ma_thu_tuc"])
    chosen, rules = {}, {"core_commune": 0, "cooperation": 0, "inter_agency_field": 0, "sampled": 0}
    for r in eligible:
        province = "Cấp tỉnh" in levels(r)
        if not province and r["source_dir"] in CORE_COMMUNE_DIRS:
            rule = "core_commune"
        elif has_cooperation(r):
            rule = "cooperation"
        elif province and r["linh_vuc"].strip() in INTER_AGENCY_FIELDS:
            rule = "inter_agency_field"
        else:
            continue
        chosen[r["ma_thu_tuc"]] = r
        rules[rule] += 1
    rest = [r for r in eligible if r["ma_thu_tuc"] not in chosen]
    for r in rest[::K]:
        chosen[r["ma_thu_tuc"]] = r
        rules["sampled"] += 1
    return [chosen[c] for c in sorted(chosen)], len(eligible), rules


def write_procedures(shared):
    src = os.path.join(shared, "vn-tthc-dvcqg-2026", "procedures.jsonl.gz")
    with gzip.open(src, "rt", encoding="utf-8") as f:
        records = [nfc(json.loads(line)) for line in f if line.strip()]
    chosen, eligible, rules = choose(records)
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chosen).encode("utf-8")
    path = os.path.join(HERE, "procedures-lam-dong.jsonl.gz")
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(body)
    return len(records), eligible, len(chosen), rules


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data"))
    ap.add_argument("--shared", default=default, help="the shared data folder (default: %(default)s)")
    args = ap.parse_args()
    if not os.path.isdir(args.shared):
        sys.exit(f"shared data not found at {args.shared}: pass --shared")
    wards = write_units(args.shared)
    total, eligible, chosen, rules = write_procedures(args.shared)
    print(f"units: province {PROVINCE} + {wards} communes")
    print(f"procedures: {total} records, {eligible} at Cấp tỉnh/Cấp xã, {chosen} chosen {rules}")


if __name__ == "__main__":
    main()
