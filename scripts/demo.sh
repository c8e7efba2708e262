#!/bin/sh
# README command (1): install, build, then the main job: mine nginx's seccomp
# profile with runc (files in out/nginx), and record a plain command.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
mkdir -p out
echo "== sandmine info"
build/cli/sandmine info
echo
echo "== sandmine mine examples/nginx.yaml -o out/nginx"
build/cli/sandmine mine examples/nginx.yaml -o out/nginx
echo
cat out/nginx/summary.md
echo
echo "== sandmine trace --list -o out/trace.json -- /usr/bin/python3 -m json.tool out/demo-input.json"
printf '{"threads": 2, "profile": "mined"}\n' > out/demo-input.json
build/cli/sandmine trace --list -o out/trace.json -- /usr/bin/python3 -m json.tool out/demo-input.json
