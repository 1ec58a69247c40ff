#!/usr/bin/env bash
# Re-runs the record of what the real clients do with each fault
# (tests/clients/fault-behaviour.mjs --check: every fixture of
# fixtures/faults/ and the fault and retry examples, each on its own
# nexus-mock, driven by the openai package, the AI SDK and LangChain) and
# fails when an outcome disagrees with docs/fault-behaviour.json, or when
# the openai SDK's retries of the retry examples are not what the mock's
# GET /_nexus/clients must see. Skipped (77) only where node is not
# installed, like the other real-client tests.
set -euo pipefail
# fault-behaviour.mjs itself refuses a Node.js older than 20.
command -v node >/dev/null || {
    echo "mock_fault_behaviour: SKIPPED: node is not installed; the" \
        "real-client tests need Node.js 20 or later"
    exit 77
}
clients="$NEXUS_SOURCE_DIR/tests/clients"
if [ ! -r "$clients/node_modules/openai/package.json" ]; then
    echo "mock_fault_behaviour: $clients has no node_modules: run npm ci" \
        "there (scripts/test does)" >&2
    exit 1
fi
exec node "$clients/fault-behaviour.mjs" --mock "$NEXUS_MOCK_BIN" --check
