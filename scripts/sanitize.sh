#!/bin/sh
# Builds sandmine and its unit and integration tests with AddressSanitizer and
# UndefinedBehaviorSanitizer (SANDMINE_SANITIZE) in build-asan/ (log:
# build-asan/build.log), and runs those two tiers: the integration tests run
# the sanitized sandmine binary. tests/programs/ is built without sanitizers on
# purpose (their syscall sets are exact). Any sanitizer report fails the test
# that caused it: UBSan aborts, ASan and LeakSanitizer exit with their codes.
# Usage: scripts/sanitize.sh [build] [test]   (both when none given)
set -eu
cd "$(dirname "$0")/.."
steps=${*:-build test}
build=build-asan
for step in $steps; do
  case $step in
    build)
      mkdir -p "$build"
      {
        # -O1 -g1: what the sanitizers need (line tables for their reports) in
        # half the compile time of -O2 -g; asserts stay on.
        cmake -S . -B "$build" -G Ninja -DSANDMINE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Sanitize \
          -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" -DCMAKE_C_FLAGS_SANITIZE="-O1 -g1" &&
          ninja -C "$build" sandmine unit_tests integration_tests sandmine_test_programs
      } > "$build/build.log" 2>&1 || { tail -40 "$build/build.log" >&2; exit 2; }
      ;;
    test)
      export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
      export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
      # Not three whole-mining runs that spend half a minute or more waiting on
      # containers while running code that shorter tests run under the
      # sanitizers too: mine -j on one recorder (MineSeveral.EachIntoItsFolder...,
      # MineSeveral.InterruptStops...), mine --image (OciImage.InitWrites...),
      # the auto step's stop rules (Generate.TheTimeBudgetIsKept). The tests
      # phase runs all of them unsanitized.
      long='^(MineSeveral\.ConcurrentRunsMineWhatSequentialRunsMine|OciImage\.MineImageIsInitsSpecPlusTheGivenSteps|MineAuto\.TheBudgetAndTheQuietRuleStopGenerationAndSaySo)$'
      scripts/ctest-strict.sh "$build" -L 'unit|integration' -E "$long"
      ;;
    *)
      echo "sanitize.sh: unknown step $step (build, test)" >&2
      exit 2
      ;;
  esac
done
