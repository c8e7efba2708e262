#!/bin/sh
# Builds the libFuzzer targets of fuzz/ with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/ (log: build-fuzz/build.log), and
# runs each for SECONDS (default 60), two at a time, starting from its
# checked-in seed corpus (fuzz/corpus/NAME). Fails on any crash, leak, hang
# (a single input taking over 10 s) or broken promise; the input that did it
# is kept in build-fuzz/crashes/ and the fuzzer's log in build-fuzz/NAME.log.
# Usage: scripts/fuzz.sh [SECONDS [NAME...]]   (names: spec trace profile kmsg)
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-60}
[ "$#" -gt 0 ] && shift
names=${*:-spec trace profile kmsg}
build=build-fuzz
mkdir -p "$build/crashes"
{
  cmake -S . -B "$build" -G Ninja -DSANDMINE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSANDMINE_WERROR=OFF &&
    ninja -C "$build" fuzzers
} > "$build/build.log" 2>&1 || { tail -40 "$build/build.log" >&2; exit 2; }

# One fuzzer: a fresh working corpus seeded from the checked-in one, so runs
# never write into the repository.
run_one() {
  name=$1
  work="$build/corpus/$name"
  rm -rf "$work"
  mkdir -p "$work"
  dict=""
  [ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
  # shellcheck disable=SC2086
  "$build/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build/crashes/$name-" $dict "$work" "fuzz/corpus/$name" > "$build/$name.log" 2>&1
}

# "fuzz_spec: 60 s, 1234567 runs (20576/s), 812 inputs in the corpus: ok"
summary() {
  name=$1 status=$2
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$name.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$build/$name.log" | tail -1)
  corpus=$(find "$build/corpus/$name" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    echo "fuzz_$name: $seconds s, ${runs:-?} runs (${rate:-?}/s), $corpus new inputs: ok"
  else
    echo "fuzz_$name: FAILED (exit $status) after ${runs:-?} runs; input in $build/crashes/, log in $build/$name.log:" >&2
    grep -E "ERROR|broken promise|runtime error|Test unit written" "$build/$name.log" | head -5 >&2
  fi
}

jobs=$(nproc 2> /dev/null || echo 2)
[ "$jobs" -gt 2 ] && jobs=2
failed=0
set -- $names
while [ "$#" -gt 0 ]; do
  batch=""
  i=0
  while [ "$#" -gt 0 ] && [ "$i" -lt "$jobs" ]; do
    (run_one "$1") &
    batch="$batch $1:$!"
    shift
    i=$((i + 1))
  done
  for entry in $batch; do
    name=${entry%%:*}
    pid=${entry#*:}
    status=0
    wait "$pid" || status=$?
    summary "$name" "$status"
    [ "$status" -eq 0 ] || failed=1
  done
done
exit "$failed"
