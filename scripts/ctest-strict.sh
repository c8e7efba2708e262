#!/bin/sh
# Runs CTest in BUILD_DIR with the given arguments (e.g. -L unit) and fails
# when a test fails or was skipped: CTest itself exits 0 when tests skip
# (GTEST_SKIP), and CI must not pass on a test that did not run. The JUnit
# report is kept as BUILD_DIR/ctest-junit.xml.
# Usage: scripts/ctest-strict.sh BUILD_DIR [CTEST ARGS...]
set -eu
build=$1
shift
junit="$(cd "$build" && pwd)/ctest-junit.xml"
rm -f "$junit"
status=0
(cd "$build" && ctest --output-on-failure --timeout 600 --output-junit "$junit" "$@") || status=$?
if [ ! -f "$junit" ]; then
  echo "ctest-strict.sh: CTest wrote no report ($junit)" >&2
  exit 2
fi
# Every test CTest did not run (skipped, disabled, not run), with the reason it printed.
python3 - "$junit" << 'PY' || status=1
import sys
import xml.etree.ElementTree as ET

suite = ET.parse(sys.argv[1]).getroot()
missed = []
for case in suite.iter("testcase"):
    if case.get("status") in ("notrun", "disabled") or case.find("skipped") is not None:
        out = case.findtext("system-out") or ""
        why = next((l.strip() for l in out.splitlines() if "Skipped" in l or "SKIPPED" in l), "")
        missed.append(f"  {case.get('name')}: {why}".rstrip())
if missed:
    print(f"ctest-strict.sh: {len(missed)} test(s) did not run, which CI does not accept:", file=sys.stderr)
    print("\n".join(missed), file=sys.stderr)
    sys.exit(1)
print(f"ctest-strict.sh: {suite.get('tests')} tests ran, none skipped")
PY
exit "$status"
