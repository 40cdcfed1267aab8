#!/bin/sh
# Builds the harness module to /tmp/pinpat.so (run from anywhere).
set -e
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../../../Sources/CLuaShims"
gcc -std=c11 -shared -fPIC -O2 -Wall -Wextra $(pkg-config --cflags lua5.4) \
  -I"$src/include" "$src/pinrules_patterns.c" "$here/pinpat.c" -o /tmp/pinpat.so
