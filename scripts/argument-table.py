#!/usr/bin/env python3
"""The per-example table of argument rules (docs/recording.md, "Argument rules per example").

For each output directory of `sandmine mine` given (one per example), writes the profile of its
trace.json three ways with `sandmine profile --args off|safe|strict` and asks `sandmine explain
--json` about each; prints one Markdown table row per example:

  names allowed     x86_64 names the safe profile lets through (at all)
  rules safe/strict argument rules (one per allowed value combination) in the safe and strict
                    profiles, and on how many syscalls
  CVE paths open    paths of data/cves.csv open under off, safe and strict (of all rows)
  left open (safe)  the CVE ids still open under safe

  scripts/argument-table.py OUT/nginx OUT/redis ...          # after sandmine mine ... -o OUT/<name>
  scripts/argument-table.py --sandmine build/cli/sandmine OUT/*

Needs no root: it only reads the traces.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def explain(sandmine, trace, mode, tmp):
    """sandmine explain --json of the profile trace gives with --args mode."""
    out = os.path.join(tmp, mode + ".json")
    subprocess.run([sandmine, "profile", trace, "--args", mode, "-o", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    doc = subprocess.run([sandmine, "explain", out, "--json"], check=True, capture_output=True, text=True)
    return json.loads(doc.stdout)


def names_allowed(e):
    return next(a["count"] for a in e["architectures"] if a["arch"] == "x86_64")


def rules(e):
    s = e["argument_rules"]["syscalls"]
    return sum(len(x["rules"]) for x in s), len(s)


def open_cves(e):
    return [c["id"] for c in e["cves"] if c["profile"] != "no"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", help="output directories of sandmine mine (each with trace.json)")
    ap.add_argument("--sandmine", default=os.path.join(HERE, "..", "build", "cli", "sandmine"),
                    help="the sandmine binary (default: build/cli/sandmine)")
    o = ap.parse_args()
    print("| example | names allowed | rules safe (syscalls) | rules strict (syscalls) "
          "| CVE paths open off / safe / strict | left open (safe) |")
    print("|---|---|---|---|---|---|")
    for d in o.dirs:
        trace = os.path.join(d, "trace.json")
        if not os.path.exists(trace):
            print(f"argument-table.py: {trace} does not exist (give sandmine mine's output directories)",
                  file=sys.stderr)
            return 2
        name = os.path.basename(os.path.normpath(d))
        with tempfile.TemporaryDirectory() as tmp:
            e = {m: explain(o.sandmine, trace, m, tmp) for m in ("off", "safe", "strict")}
        total = len(e["off"]["cves"])
        rs, ss = rules(e["safe"])
        rt, st = rules(e["strict"])
        left = ", ".join(open_cves(e["safe"])) or "none"
        print(f"| {name} | {names_allowed(e['safe'])} | {rs} ({ss}) | {rt} ({st}) | "
              f"{len(open_cves(e['off']))} / {len(open_cves(e['safe']))} / {len(open_cves(e['strict']))} "
              f"of {total} | {left} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
