#!/bin/sh
# README command (2): install, build, start the services the tests need, and
# run the whole test suite (unit, integration, e2e) with CTest. Services it
# started are stopped again at the end.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
dockerd_pid=$(scripts/start-services.sh)
stop_services() {
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2> /dev/null || true
    while kill -0 "$dockerd_pid" 2> /dev/null; do sleep 0.2; done
  fi
}
trap stop_services EXIT
cd build
ctest --output-on-failure --timeout 600
