#!/bin/sh
# Installs everything sandmine needs to build, run and test, from Debian's
# packages only (Debian 12 "bookworm"). Safe to run again.
set -eu
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (it uses apt-get)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build pkg-config clang llvm clang-format libclang-rt-dev \
  libbpf-dev bpftool libseccomp-dev libelf-dev libcapstone-dev libpcap-dev libssl-dev \
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libfmt-dev \
  libgtest-dev libgmock-dev libbenchmark-dev chromium \
  python3 perl busybox-static mmdebstrap util-linux iproute2 ca-certificates skopeo umoci \
  runc docker.io docker-compose podman \
  curl wrk apache2-utils redis-tools postgresql-client mariadb-client libmemcached-tools netcat-openbsd \
  > /tmp/sandmine-apt.log 2>&1 || { tail -20 /tmp/sandmine-apt.log >&2; exit 2; }
