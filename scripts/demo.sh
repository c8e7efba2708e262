#!/bin/sh
# README command (1): install, build, then the main job: mine a container's
# seccomp profile with runc, and record a plain command (files in out/).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
mkdir -p out
echo "== sandmine info"
build/cli/sandmine info
echo
echo "== sandmine mine examples/busybox-httpd.yaml -o out/busybox-httpd"
build/cli/sandmine mine examples/busybox-httpd.yaml -o out/busybox-httpd
cat out/busybox-httpd/summary.md
echo
echo "== sandmine trace --list -o out/trace.json -- /usr/bin/python3 -m json.tool out/demo-input.json"
printf '{"threads": 2, "profile": "mined"}\n' > out/demo-input.json
build/cli/sandmine trace --list -o out/trace.json -- /usr/bin/python3 -m json.tool out/demo-input.json
echo
echo "== sandmine profile out/trace.json -o out/profile.json"
build/cli/sandmine profile out/trace.json -o out/profile.json
