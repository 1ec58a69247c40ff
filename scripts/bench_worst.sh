# Sourced by scripts/bench: the "worst request" section. Each request is the
# most work a client can ask of one chat completion (at the edge of the
# generation budget, or far beyond it); each runs against a fresh mock so
# its peak RSS is its own. Prints, per request: the HTTP status, the mock's
# CPU per request (utime + stime from /proc/PID/stat, over REPEAT requests)
# and its peak RSS (VmHWM). Figures only: nothing here passes or fails.

# A fixture without rate limits, so repeats are never refused with 429.
worst_fixture() {
    cat <<'EOF'
version: 1
plans:
  bench: {requests_per_minute: 0}
models:
  - id: bench-model
    created: 1735689600
    price: {input_per_million: 0.01, output_per_million: 0.01}
keys:
  - key: sk-bench
    plan: bench
    balance: 1000000
EOF
}

WORST_HEAD='{"model":"bench-model","messages":[{"role":"user","content":"hi"}]'

# worst_tool SCHEMA [EXTRA]: a request with one function tool whose
# parameters are SCHEMA, and EXTRA members.
worst_tool() {
    printf '%s,"tools":[{"type":"function","function":{"name":"f","parameters":%s}}]%s}' \
        "$WORST_HEAD" "$1" "${2:-}"
}

# worst_format SCHEMA [EXTRA]: a request for structured output of SCHEMA.
worst_format() {
    printf '%s,"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":%s}}%s}' \
        "$WORST_HEAD" "$1" "${2:-}"
}

# worst_body NAME FILE: writes the request body of case NAME to FILE. The
# cases far beyond the budget are those the issue measured (or worse); the
# edge-* cases are the most the default budget lets through, each in a
# different currency (values, tokens, bytes, streamed chunks, depth, tools).
worst_body() {
    local name=$1 file=$2 head=$WORST_HEAD k deep
    case $name in
    plain) printf '%s}' "$head" ;;
    n128-3MB-message)
        printf '{"model":"bench-model","n":128,"messages":[{"role":"user","content":"'
        head -c 3000000 /dev/zero | tr '\0' 'a'
        printf '"}]}' ;;
    n128-logprobs20) printf '%s,"n":128,"logprobs":true,"top_logprobs":20}' "$head" ;;
    integer-max-1e300) worst_tool '{"type":"object","properties":{"x":{"type":"integer","maximum":1e300}},"required":["x"]}' ;;
    number-pm-1.7e308) worst_tool '{"type":"object","properties":{"x":{"type":"number","minimum":-1.7e308,"maximum":1.7e308}},"required":["x"]}' ;;
    minItems-3000000) worst_tool '{"type":"object","properties":{"x":{"type":"array","minItems":3000000,"items":{"type":"integer"}}},"required":["x"]}' ;;
    ref-cycle-minItems-25) worst_tool '{"type":"array","minItems":25,"items":{"$ref":"#"}}' ;;
    ref-tree-3-ways) worst_tool '{"type":"object","properties":{"a":{"$ref":"#"},"b":{"$ref":"#"},"c":{"$ref":"#"}}}' ;;
    n128-logprobs20-schema)
        worst_format "{\"type\":\"array\",\"minItems\":${WORST_EDGE_ITEMS:-70},\"items\":{\"type\":\"string\",\"enum\":[\"a b c d\"]}}" \
            ',"n":128,"logprobs":true,"top_logprobs":20' ;;
    nested-100x100)
        worst_tool "{\"type\":\"array\",\"minItems\":${WORST_EDGE_NESTED:-100},\"items\":{\"type\":\"array\",\"minItems\":${WORST_EDGE_NESTED:-100},\"items\":{\"type\":\"integer\"}}}" ;;
    n1-3MB-message)
        printf '{"model":"bench-model","messages":[{"role":"user","content":"'
        head -c 3000000 /dev/zero | tr '\0' 'a'
        printf '"}]}' ;;
    edge-minItems-integers) worst_tool "{\"type\":\"array\",\"minItems\":${WORST_EDGE_INTS:-2700},\"items\":{\"type\":\"integer\"}}" ;;
    edge-minItems-stream) worst_format "{\"type\":\"array\",\"minItems\":${WORST_EDGE_INTS:-2700},\"items\":{\"type\":\"integer\"}}" ",\"stream\":true" ;;
    edge-minLength) worst_format '{"type":"string","minLength":40000}' ;;
    edge-minLength-stream) worst_format '{"type":"string","minLength":40000}' ',"stream":true' ;;
    edge-nested-50x50) worst_tool '{"type":"array","minItems":50,"items":{"type":"array","minItems":50,"items":{"type":"integer"}}}' ;;
    edge-logprobs20-schema) worst_format '{"type":"array","minItems":1000,"items":{"type":"string","enum":["a b c d"]}}' ',"logprobs":true,"top_logprobs":20' ;;
    edge-const-80000)
        printf '%s,"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"const":"' "$head"
        head -c 80000 /dev/zero | tr '\0' 'a'
        printf '"}}}}' ;;
    edge-depth-31)
        deep='{"type":"integer"}'
        for k in $(seq 15); do deep="{\"type\":\"object\",\"properties\":{\"a\":$deep},\"required\":[\"a\"]}"; done
        worst_tool "$deep" ;;
    edge-many-tools)
        printf '%s,"tools":[' "$head"
        for k in $(seq 3000); do
            [ "$k" -gt 1 ] && printf ','
            printf '{"type":"function","function":{"name":"f%s","parameters":{"type":"array","minItems":6,"items":{"type":"integer"}}}}' "$k"
        done
        printf ']}' ;;
    const-3MB-n128)
        printf '%s,"n":128,"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"const":"' "$head"
        head -c 3000000 /dev/zero | tr '\0' 'a'
        printf '"}}}}' ;;
    esac >"$file"
}

# listen_url FILE: waits (up to 5 s) for the mock's whole listening line in
# FILE and prints its URL; the mock may be halfway through writing it.
listen_url() {
    local url=""
    for _ in $(seq 500); do
        if [ -s "$1" ] && [ -z "$(tail -c 1 "$1")" ]; then
            url=$(sed -n 's/^nexus-mock listening on //p' "$1")
            [ -n "$url" ] && break
        fi
        sleep 0.01
    done
    printf '%s\n' "$url"
}

# proc_cpu_ticks PID: utime + stime of every thread, in clock ticks.
proc_cpu_ticks() {
    # Fields 14 and 15 counted after the ")" that closes the command name.
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# worst_run MOCK: runs every case, one fresh mock each, and prints a table.
worst_run() {
    local mock=$1 dir fixture name pid url t0 t1 w0 w1 hz status repeat i hwm alive
    local cpu wall
    local cases=(plain n1-3MB-message n128-3MB-message n128-logprobs20
        integer-max-1e300 number-pm-1.7e308 minItems-3000000
        ref-cycle-minItems-25 ref-tree-3-ways n128-logprobs20-schema
        nested-100x100 const-3MB-n128 edge-minItems-integers
        edge-minItems-stream edge-minLength edge-minLength-stream
        edge-nested-50x50 edge-logprobs20-schema edge-const-80000
        edge-depth-31 edge-many-tools)
    dir=$(mktemp -d)
    fixture="$dir/bench.yaml"
    worst_fixture >"$fixture"
    hz=$(getconf CLK_TCK)
    printf '== worst requests, one fresh mock each (%s requests per case, curl --max-time %s):\n' \
        "${WORST_REPEAT:-10}" "${WORST_TIMEOUT:-30}"
    printf '  %-28s %8s %12s %12s %10s\n' case status "cpu ms/req" "wall ms/req" "VmHWM MiB"
    for name in ${WORST_CASES:-${cases[@]}}; do
        worst_body "$name" "$dir/body"
        rm -f "$dir/listen" # not the last case's line: see scripts/bench
        "$mock" --port 0 --quiet --fixtures "$fixture" ${WORST_FLAGS:-} >"$dir/listen" &
        pid=$!
        url=$(listen_url "$dir/listen")
        repeat=${WORST_REPEAT:-10}
        t0=$(proc_cpu_ticks "$pid")
        w0=$(date +%s%N)
        for i in $(seq "$repeat"); do
            status=$(curl -sS -o "$dir/answer" -w '%{http_code}' --max-time "${WORST_TIMEOUT:-30}" \
                -H 'Authorization: Bearer sk-bench' -H 'Content-Type: application/json' \
                --data-binary @"$dir/body" "$url/v1/chat/completions" || true)
            [ "$status" = 200 ] || [ "$status" = 400 ] || break
        done
        w1=$(date +%s%N)
        if kill -0 "$pid" 2>/dev/null; then
            t1=$(proc_cpu_ticks "$pid")
            alive=""
            hwm=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
            kill "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; alive=" (SIGTERM ignored 5 s)"; }
        else
            t1=$t0 hwm="-" alive=" (mock died)"
        fi
        wait "$pid" 2>/dev/null || true
        cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v r="$i" 'BEGIN { printf "%.1f", t * 1000 / hz / r }')
        wall=$(awk -v w=$(((w1 - w0) / 1000)) -v r="$i" 'BEGIN { printf "%.1f", w / 1000 / r }')
        printf '  %-28s %8s %12s %12s %10s\n' "$name" "$status$alive" "$cpu" "$wall" "$hwm"
        # Inside scripts/bench, the figures join its JSON too.
        if declare -F bench_row >/dev/null; then
            bench_row worst "$(jq -n -c --arg c "$name" --arg s "$status$alive" \
                --argjson cpu "$cpu" --argjson wall "$wall" --arg m "$hwm" --argjson r "$i" \
                '{case: $c, status: $s, cpu_ms_per_request: $cpu, wall_ms_per_request: $wall,
                  vmhwm_mib: ($m | tonumber? // null), requests: $r}')"
        fi
    done
    rm -rf "$dir"
}
