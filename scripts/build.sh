#!/bin/sh
# Configures and builds sandmine, its tests and benchmarks into build/
# (log: build/build.log).
set -eu
cd "$(dirname "$0")/.."
mkdir -p build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > build/build.log 2>&1 || { cat build/build.log >&2; exit 2; }
ninja -C build >> build/build.log 2>&1 || { tail -40 build/build.log >&2; exit 2; }
