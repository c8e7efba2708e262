#!/bin/sh
# Containers a recording must refuse (tests/e2e/record_test.cpp): started
# without the recording profile (no-profile) or outside the watched cgroup
# parent (outside). $1: which; $2: the container's name; $3: the image.
set -u
case "$1" in
  no-profile) docker run --name "$2" --cgroup-parent "$SANDMINE_CGROUP_PARENT" "$3" /bin/busybox sleep 1 ;;
  outside) docker run --name "$2" --security-opt "seccomp=$SANDMINE_SECCOMP" "$3" /bin/busybox sleep 1 ;;
esac
code=$?
docker rm -f "$2" >/dev/null 2>&1
exit $code
