#!/bin/sh
# README command (2), and all of CI (.ci/run calls it and nothing else):
#   install   scripts/install-deps.sh
#   lint      scripts/check-format.sh: C++ sources as .clang-format says;
#             scripts/check-kernel-door.sh: raw kernel calls only in src/sys/
#   build     scripts/build.sh: sandmine, tests and benchmarks in build/
#   tests     every tier (unit, integration, e2e) with CTest; starts dockerd;
#             the sanitize build runs meanwhile at the lowest CPU weight
#   sanitize  scripts/sanitize.sh: ASan + UBSan build in build-asan/ (waits
#             for the one the tests phase started), its unit and integration
#             tiers
#   fuzz      scripts/fuzz.sh: each libFuzzer target for SANDMINE_FUZZ_SECONDS
#             (default 30), two at a time
# CI=1 is exported: a test that cannot run here fails instead of skipping, and
# a CTest run in which any test was skipped fails its phase. Each phase prints
# its duration; a failed phase does not stop the others (only a failed install
# does, and tests wait for build), and the run fails if any phase failed.
# Name phases to run only those: scripts/test.sh build tests
# Services it started (dockerd) are stopped again at the end.
set -eu
cd "$(dirname "$0")/.."
export CI=1
phases=${*:-install lint build tests sanitize fuzz}

dockerd_pid=""
background_pid=""
background_cgroup=""
stop_services() {
  if [ -n "$background_pid" ]; then
    kill -- "-$background_pid" 2> /dev/null || kill "$background_pid" 2> /dev/null || true
    wait "$background_pid" 2> /dev/null || true
  fi
  [ -n "$background_cgroup" ] && rmdir "$background_cgroup" 2> /dev/null
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2> /dev/null || true
    while kill -0 "$dockerd_pid" 2> /dev/null; do sleep 0.2; done
  fi
}

# The sanitize phase's build runs during the tests phase, which mostly waits on
# containers, in a cgroup with the least CPU weight: it gets only the CPU the
# tests leave idle, so the tests' containers run as they would alone. Where no
# such cgroup can be made, the build runs in the sanitize phase (said so).
start_sanitize_build() {
  case " $phases " in *" sanitize "*) ;; *) return 0 ;; esac
  if [ -d /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cpu.shares ]; then # cgroup v1
    background_cgroup=/sys/fs/cgroup/cpu/ci-sanitize-build
    mkdir -p "$background_cgroup" && echo 2 > "$background_cgroup/cpu.shares" || background_cgroup=""
  elif grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2> /dev/null; then # cgroup v2
    background_cgroup=/sys/fs/cgroup/ci-sanitize-build
    mkdir -p "$background_cgroup" && echo 1 > "$background_cgroup/cpu.weight" || background_cgroup=""
  fi
  if [ -z "$background_cgroup" ]; then
    echo "tests: no low-weight CPU cgroup for the sanitize build; it runs in the sanitize phase" >&2
    return 0
  fi
  setsid sh -c 'echo $$ > "$1/cgroup.procs" && exec scripts/sanitize.sh build' _ "$background_cgroup" &
  background_pid=$!
  echo "tests: the sanitize build runs meanwhile at the lowest CPU weight ($background_cgroup)"
}
trap stop_services EXIT

phase_install() { scripts/install-deps.sh; }
phase_lint() {
  lint_status=0
  scripts/check-format.sh || lint_status=1
  scripts/check-kernel-door.sh || lint_status=1
  return "$lint_status"
}
phase_build() { scripts/build.sh; }
phase_tests() {
  dockerd_pid=$(scripts/start-services.sh)
  start_sanitize_build
  scripts/ctest-strict.sh build
}
phase_sanitize() {
  if [ -n "$background_pid" ]; then
    build_status=0
    wait "$background_pid" || build_status=$?
    background_pid=""
    rmdir "$background_cgroup" 2> /dev/null || true
    background_cgroup=""
    [ "$build_status" -eq 0 ] || return "$build_status"
    scripts/sanitize.sh test
  else
    scripts/sanitize.sh
  fi
}
phase_fuzz() { scripts/fuzz.sh "${SANDMINE_FUZZ_SECONDS:-30}"; }

minutes() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

summary=""
failed=0
build_failed=0
started=$(date +%s)
for phase in $phases; do
  case $phase in
    install | lint | build | tests | sanitize | fuzz) ;;
    *)
      echo "test.sh: unknown phase $phase (install lint build tests sanitize fuzz)" >&2
      exit 2
      ;;
  esac
  echo "== $phase"
  t0=$(date +%s)
  status=0
  if [ "$phase" = tests ] && [ "$build_failed" -eq 1 ]; then
    echo "tests: not run, the build failed" >&2
    status=1
  else
    "phase_$phase" || status=$?
  fi
  took=$(($(date +%s) - t0))
  if [ "$status" -eq 0 ]; then result=ok; else result="FAILED (exit $status)"; fi
  echo "== $phase: $(minutes "$took") $result"
  summary="$summary$(printf '%-9s %7s  %s' "$phase" "$(minutes "$took")" "$result")
"
  if [ "$status" -ne 0 ]; then
    failed=1
    [ "$phase" = build ] && build_failed=1
    [ "$phase" = install ] && break
  fi
done
echo "== phases"
printf '%s' "$summary"
echo "total     $(minutes $(($(date +%s) - started)))"
exit "$failed"
