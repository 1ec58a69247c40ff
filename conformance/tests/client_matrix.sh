#!/usr/bin/env bash
# Runs the client-impact matrix again (tests/clients/matrix.mjs --check:
# the openai package, the AI SDK and LangChain against every break case and
# dialect, each on its own nexus-mock) and fails when a client now does
# something other than docs/client-impact.json records: the matrix that
# conform_test_impact holds every FAIL and impact text to. Skipped (77)
# only where node is not installed, like the other real-client tests.
set -euo pipefail
command -v node >/dev/null || {
    echo "conform_test_client_matrix: SKIPPED: node is not installed; the" \
        "real-client tests need Node.js 20 or later"
    exit 77
}
clients="$NEXUS_SOURCE_DIR/tests/clients"
if [ ! -r "$clients/node_modules/yaml/package.json" ]; then
    echo "conform_test_client_matrix: $clients has no node_modules: run" \
        "npm ci there (scripts/test does)" >&2
    exit 1
fi
exec node "$clients/matrix.mjs" --mock-bin "$NEXUS_MOCK_BIN" --jobs 8 --check
