#!/usr/bin/env bash
# Runs every curl, nexus-mock and real-client (node tests/clients/...)
# example of README.md, verbatim but for the URL and paths, against a mock
# started here on a free port (with --admin, for the control API's).
set -euo pipefail
readme="$NEXUS_SOURCE_DIR/README.md"
out=$(mktemp -d)
"$NEXUS_MOCK_BIN" --port 0 --quiet --admin >"$out/listen" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 100); do
    grep -q listening "$out/listen" && break
    sleep 0.05
done
url=$(sed -n 's/^nexus-mock listening on //p' "$out/listen")
[ -n "$url" ] || { echo "mock did not start"; exit 1; }

# Pull each sh code block that starts with curl or the built binary, with
# continuation lines joined.
awk -v dir="$out" '
    /^```sh$/ { inblock = 1; cmd = ""; next }
    /^```$/ && inblock {
        inblock = 0
        if (cmd ~ /^(curl|build\/release\/mockserver\/nexus-mock|scripts\/conform|node tests\/clients\/)/)
            print cmd > sprintf("%s/ex%02d.sh", dir, n++)
        next
    }
    inblock {
        line = $0
        if (sub(/\\$/, "", line)) cmd = cmd line " "
        else cmd = cmd line
    }' "$readme"

count=0
fail=0
for ex in "$out"/ex*.sh; do
    cmd=$(sed -e "s#http://127.0.0.1:8080#$url#g" \
        -e "s#build/release/mockserver/nexus-mock#$NEXUS_MOCK_BIN#g" \
        -e "s#scripts/conform#$NEXUS_CONFORM_BIN#g" \
        -e "s# report\.# $out/report.#g" \
        -e "s#fixtures/examples/#$NEXUS_SOURCE_DIR/fixtures/examples/#g" \
        -e "s#^node tests/clients/#node $NEXUS_SOURCE_DIR/tests/clients/#" "$ex")
    count=$((count + 1))
    if ! result=$(bash -c "$cmd" 2>&1); then
        echo "FAIL (exit): $cmd"; fail=$((fail + 1)); continue
    fi
    case "$result" in
    '{"client":'*)
        # drive.mjs: every scenario must have worked.
        if grep -qv '"outcome":"works"' <<<"$result"; then
            echo "FAIL (outcome): $cmd"; echo "$result" | head -3 | cut -c1-300
            fail=$((fail + 1))
        fi ;;
    '{"object":"list"'* | '{"id":'* | 'data: {'* | '{"balance":'* | '{"error":{'* | *": ok: "*) ;;
    '{"object":"nexus.'* | '{"reset":'* | '{"deleted":'* | '{"status":"ok"'*) ;;
    *"passed, 0 failed, 0 warned, 0 skipped") ;;
    *) echo "FAIL (output): $cmd"; echo "$result" | head -5; fail=$((fail + 1)) ;;
    esac
done
[ "$count" -ge 9 ] || { echo "only $count examples found"; exit 1; }
echo "$((count - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
