#!/usr/bin/env bash
# The registry tests run a real etcd: Debian's etcd-server (the tests start
# their own on free loopback ports; the package's service is not used).
set -euo pipefail

if ! command -v etcd >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq etcd-server >/dev/null
  else
    echo "registry tests need Debian's etcd-server:" >&2
    echo "  sudo apt-get install -y etcd-server" >&2
    exit 1
  fi
fi
