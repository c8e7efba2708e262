#!/bin/sh
# Configures and builds sandmine, its tests and benchmarks into build/
# (log: build/build.log).
set -eu
cd "$(dirname "$0")/.."
mkdir -p build
# -g1 (line tables: backtraces, perf and sanitizer reports name file and
# line) compiles in three quarters of the time of -g.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" > build/build.log 2>&1 || { cat build/build.log >&2; exit 2; }
ninja -C build >> build/build.log 2>&1 || { tail -40 build/build.log >&2; exit 2; }
