#!/usr/bin/env bash
# Prepares the cross-language tests: Debian's python3 with grpcio, and Python
# message classes generated from proto/ by Debian's protoc (never committed).
set -euo pipefail
cd "$(dirname "$0")/../.."

# libprotobuf-dev holds google/protobuf/*.proto, which protoc needs and
# protobuf-compiler only recommends: installs without recommends lack it.
if ! /usr/bin/python3 -c "import grpc, google.protobuf" 2>/dev/null || ! command -v protoc >/dev/null ||
  [ ! -f /usr/include/google/protobuf/any.proto ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3-grpcio python3-protobuf protobuf-compiler libprotobuf-dev >/dev/null
  else
    echo "interop tests need Debian's python3-grpcio, python3-protobuf, protobuf-compiler and libprotobuf-dev:" >&2
    echo "  sudo apt-get install -y python3-grpcio python3-protobuf protobuf-compiler libprotobuf-dev" >&2
    exit 1
  fi
fi

out=test/interop/gen
rm -rf "$out"
mkdir -p "$out"
protoc -I proto --python_out="$out" proto/ferry/v1/*.proto proto/google/rpc/status.proto
