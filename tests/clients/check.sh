#!/usr/bin/env bash
# Runs one record check of the real-client harness under ctest:
#   check.sh TEST SCRIPT.mjs [ARGS...]
# runs node tests/clients/SCRIPT.mjs ARGS (its --check compares what the
# clients do now with the committed record). Skipped (77) only where node
# is not installed, like the other real-client tests; a failure when the
# harness has no node_modules (scripts/test runs npm ci there). The
# scripts themselves refuse a Node.js older than 20.
set -euo pipefail
name=$1 script=$2
shift 2
command -v node >/dev/null || {
    echo "$name: SKIPPED: node is not installed; the real-client tests" \
        "need Node.js 20 or later"
    exit 77
}
clients=$(cd "$(dirname "$0")" && pwd)
if [ ! -r "$clients/node_modules/openai/package.json" ] ||
    [ ! -r "$clients/node_modules/yaml/package.json" ]; then
    echo "$name: $clients has no node_modules: run npm ci there" \
        "(scripts/test does)" >&2
    exit 1
fi
exec node "$clients/$script" "$@"
