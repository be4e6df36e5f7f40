#!/usr/bin/env bash
# The dashboard tests load the page in a real headless browser: Debian's
# chromium, driven by playwright-core (which never downloads a browser).
set -euo pipefail

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
  else
    echo "dashboard tests need Debian's chromium:" >&2
    echo "  sudo apt-get install -y --no-install-recommends chromium fonts-liberation" >&2
    exit 1
  fi
fi
