#!/usr/bin/env python3
"""Mines examples three ways and tabulates what each found (docs/explore-auto.md, Evidence).

  hand  the example's own explore steps
  auto  an `auto` step alone: the example's image, command, environment, ready probe and stop,
        explore replaced by `- auto: {}` (no steps of its own, so no traffic to fuzz)
  both  the example's explore steps, then `- auto: {}`

Each is mined with `sandmine mine` (its held-out validate steps run under the mined profile at
the end) into OUT/<example>-<way>/; one tab-separated line per run goes to standard output:
example, way, syscalls in the profile, distinct syscalls observed, Chao2's unseen estimate
(f0) with explore steps as the sampling units, explore steps, f0 with step families as the
units, families, syscalls the held-out validate steps made that mining never saw (what f0
tries to estimate), mining seconds, validate result, the auto stop rule.

  sudo scripts/auto-evidence.py OUT redis mariadb          # some examples, all three ways
  sudo scripts/auto-evidence.py OUT --ways auto,both nginx
  sudo scripts/auto-evidence.py OUT --mine-option=--args=off redis   # names only
"""
import argparse
import json
import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "examples")
# What the container is and how it runs: kept in the auto-alone spec.
RUN_KEYS = ["name", "image", "env", "user", "workdir", "args", "command", "ready", "ulimits", "stop"]


def variant(text: str, way: str) -> str:
    spec = yaml.safe_load(text)
    if way == "hand":
        out = dict(spec)
    elif way == "auto":
        out = {k: spec[k] for k in RUN_KEYS if k in spec}
        out["explore"] = [{"auto": {}}]
        out["validate"] = spec.get("validate", [])
    else:
        out = dict(spec)
        out["explore"] = list(spec["explore"]) + [{"auto": {}}]
    out.pop("bench", None)
    out["name"] = f"{spec['name']}-{way}"
    return yaml.safe_dump(out, sort_keys=False, width=1000)


def row(example: str, way: str, out_dir: str, exit_code: int) -> str:
    def load(name):
        try:
            with open(os.path.join(out_dir, name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    trace, profile, check = load("trace.json"), load("profile.json"), load("check.json")
    allowed = len({n for rule in profile["syscalls"] for n in rule["names"]}) if profile else "-"
    observed = len(trace["syscalls"]) if trace else "-"
    cov = (trace or {}).get("coverage") or {}
    fam = (trace or {}).get("coverage_by_family") or {}
    f0 = cov.get("unseen_estimate")
    f0_family = fam.get("unseen_estimate")
    new_in_validate = len({v["syscall"] for v in check["violations"]}) if check else "-"
    seconds = (trace or {}).get("target", {}).get("duration_ms", 0) / 1000
    if check is None:
        held_out = f"none (exit {exit_code})"
    elif check["passed"]:
        held_out = "passed"
    else:
        failed = [s["name"] for s in check["steps"] if not s["ok"]]
        held_out = f"FAILED: {len(check['violations'])} outside ({', '.join(v['syscall'] for v in check['violations'])})"
        if failed:
            held_out += f"; steps failed: {', '.join(failed)}"
    stops = ",".join(f"{g['stop']} after {g['steps']}" for g in (trace or {}).get("generated", []))
    return "\t".join(str(x) for x in [example, way, allowed, observed,
                                       "-" if f0 is None else f"{f0:.1f}", cov.get("steps", "-"),
                                       "-" if f0_family is None else f"{f0_family:.1f}", fam.get("steps", "-"),
                                       new_in_validate, f"{seconds:.1f}", held_out, stops or "-"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("examples", nargs="+")
    p.add_argument("--ways", default="hand,auto,both")
    p.add_argument("--sandmine", default=os.path.join(HERE, "..", "build", "cli", "sandmine"))
    p.add_argument("--mine-option", action="append", default=[], help="passed to sandmine mine (--mine-option=--args=off)")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for example in a.examples:
        with open(os.path.join(EXAMPLES, example + ".yaml")) as f:
            text = f.read()
        for way in a.ways.split(","):
            spec = os.path.join(os.path.abspath(a.out), f"{example}-{way}.yaml")
            with open(spec, "w") as f:
                f.write(variant(text, way))
            out_dir = os.path.join(a.out, f"{example}-{way}")
            with open(os.path.join(a.out, f"{example}-{way}.err"), "w") as err:
                r = subprocess.run([a.sandmine, "mine", spec, "-o", out_dir] + a.mine_option, stderr=err)
            print(row(example, way, out_dir, r.returncode), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
