#!/bin/sh
# make check: build, then every test suite; ends with "N passed, M failed".
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 scripts/check.py "$@"
