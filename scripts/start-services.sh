#!/bin/sh
# Starts dockerd when no Docker daemon answers, and prints its pid (nothing
# when one was already running), so the caller can stop what it started.
set -eu
if /usr/bin/docker info > /dev/null 2>&1; then
  exit 0
fi
nohup /usr/sbin/dockerd > /var/log/sandmine-dockerd.log 2>&1 &
pid=$!
i=0
until /usr/bin/docker info > /dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -gt 60 ] || ! kill -0 "$pid" 2> /dev/null; then
    echo "start-services.sh: dockerd did not come up; see /var/log/sandmine-dockerd.log" >&2
    exit 2
  fi
  sleep 1
done
echo "$pid"
