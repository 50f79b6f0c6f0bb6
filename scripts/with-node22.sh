#!/usr/bin/env bash
# Runs a command with Node 22 (scripts/node22.sh) first in PATH, so the command and every
# Node process it starts (vitest's workers, tsx, serverless offline's functions, the
# bench's children) run on the runtime the functions have on Lambda.
# SKIFF_REQUIRE_NODE22=1 has the unit tests check that they really do.
#   bash scripts/with-node22.sh vitest run
set -euo pipefail

bin="$(bash "$(dirname "${BASH_SOURCE[0]}")/node22.sh")"
export PATH="$bin:$PATH"
export SKIFF_REQUIRE_NODE22=1
exec "$@"
