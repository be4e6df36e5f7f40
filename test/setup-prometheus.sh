#!/usr/bin/env bash
# The metrics tests scrape a node with a real Prometheus: Debian's
# prometheus (the tests start their own on a free loopback port).
set -euo pipefail

if ! command -v prometheus >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq prometheus >/dev/null
  else
    echo "metrics tests need Debian's prometheus:" >&2
    echo "  sudo apt-get install -y prometheus" >&2
    exit 1
  fi
fi
