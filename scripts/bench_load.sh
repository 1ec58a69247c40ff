# Sourced by scripts/bench: the load sections (the ceiling, the mock's
# throughput, paced streams, delayed answers, start-up), each figure the
# median of $RUNS runs, and the table and JSON file the whole bench ends
# in. Figures only: nothing here passes or fails.
#
# Environment: RUNS (default 3), DURATION (seconds per wrk run, default 5),
# THREADS (worker threads of the mock and the ceiling alike, default the
# core count, the mock's default), BENCH_CONNS (wrk connections, default
# "64 1000"), BENCH_STREAMS (paced streams opened at once, default "1000
# 10000"), BENCH_STREAMS_RAMP (N:MS pairs, N paced streams opened evenly
# over MS ms, default "10000:700": all 10,000 open together, since each
# lasts about 0.9 s, without the opening burst; "" for none),
# BENCH_JSON (where the JSON goes, default bench/results.json). BENCH_BIN and BENCH_MOCK name
# other builds of the tools and the mock (bench/smoke.sh uses its own).

BENCH_PACKAGES="wrk jq"
BENCH_SRC="$ROOT/bench"
BENCH_BIN=${BENCH_BIN:-$ROOT/build/release/bench}
BENCH_MOCK=${BENCH_MOCK:-$ROOT/build/release/mockserver/nexus-mock}
BENCH_KEY=sk-bench

# Sets up the run: settings, a scratch folder, and a trap that stops every
# server the bench started.
bench_init() {
    BENCH_RUNS=${RUNS:-3}
    BENCH_DURATION=${DURATION:-5}
    BENCH_THREADS=${THREADS:-$(nproc)}
    BENCH_CONNS=${BENCH_CONNS:-"64 1000"}
    BENCH_STREAMS=${BENCH_STREAMS:-"1000 10000"}
    BENCH_STREAMS_RAMP=${BENCH_STREAMS_RAMP-"10000:700"}
    BENCH_JSON=${BENCH_JSON:-$ROOT/bench/results.json}
    # wrk and the stream generator hold thousands of sockets.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    BENCH_TMP=$(mktemp -d)
    BENCH_PIDS=()
    mkdir -p "$BENCH_TMP/rec" "$BENCH_TMP/rows"
    trap bench_cleanup EXIT
    printf '%s\n' '{"model":"bench-model","messages":[{"role":"user","content":"Hello!"}]}' \
        >"$BENCH_TMP/chat.json"
}

bench_cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    rm -rf "$BENCH_TMP"
}

# server_up CMD [ARGS...]: starts a server that prints "... listening on
# URL" on stdout; sets SERVER_PID and SERVER_URL.
server_up() {
    local out
    BENCH_NSERVERS=$((${BENCH_NSERVERS:-0} + 1))
    out="$BENCH_TMP/listen.$BENCH_NSERVERS"
    "$@" >"$out" 2>>"$BENCH_TMP/server.log" &
    SERVER_PID=$!
    BENCH_PIDS+=("$SERVER_PID")
    for _ in $(seq 500); do
        grep -qs 'listening on ' "$out" && break
        sleep 0.01
    done
    SERVER_URL=$(sed -n 's/.*listening on //p' "$out")
    [ -n "$SERVER_URL" ] || { echo "bench: $1 did not start" >&2; return 1; }
}

# Stops the server server_up started last.
server_down() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

mock_up() {
    server_up "$BENCH_MOCK" --port 0 --quiet --threads "$BENCH_THREADS" \
        --fixtures "$BENCH_SRC/fixture.yaml" "$@"
}

# bench_median < LINES: one JSON object per line in, one out: each number
# the median of the runs (the mean of the middle two for an even count),
# anything else as in the first run, plus "runs".
bench_median() {
    jq -s -c '
        def med: sort | if length % 2 == 1 then .[length / 2 | floor]
                        else (.[length / 2 - 1] + .[length / 2]) / 2 end;
        . as $runs
        | reduce ([$runs[0] | paths(numbers)][]) as $p ($runs[0];
            setpath($p; [$runs[] | getpath($p) | numbers] | med))
        | .runs = ($runs | length)'
}

# bench_record NAME JSON: the figures of a section with one result.
bench_record() { printf '%s\n' "$2" >"$BENCH_TMP/rec/$1.json"; }
# bench_row NAME JSON: one row of a section with several.
bench_row() { printf '%s\n' "$2" >>"$BENCH_TMP/rows/$1.jsonl"; }

# wrk_runs URL METHOD BODYFILE CONNS: $BENCH_RUNS wrk runs, one JSON line
# each, on stdout.
wrk_runs() {
    local i
    for i in $(seq "$BENCH_RUNS"); do
        BENCH_METHOD=$2 BENCH_KEY=$BENCH_KEY BENCH_BODY_FILE=$3 \
            wrk -t "$(nproc)" -c "$4" -d "${BENCH_DURATION}s" \
            -s "$BENCH_SRC/wrk.lua" "$1" | grep '^{'
    done
}

# throughput_row TARGET REQUEST CONNS CEILING_RPS < RUN_LINES: records the
# median of the runs, with the ratio to the ceiling when one is given.
throughput_row() {
    local runs="$BENCH_TMP/row-runs" row
    cat >"$runs"
    row=$(bench_median <"$runs" | jq -c --arg t "$1" --arg r "$2" \
        --argjson c "$3" --argjson ceil "${4:-null}" --slurpfile all "$runs" \
        '{target: $t, request: $r, connections: $c} + .
         | .ratio = (if $ceil then .rps / $ceil else null end)
         | .non2xx_all_runs = ([$all[].non2xx] | add)
         | .socket_errors_all_runs = ([$all[].socket_errors] | add)')
    bench_row throughput "$row"
    printf '%s\n' "$row" | jq -r '"  \(.target) \(.request) c=\(.connections): \(.rps | floor) req/s, p99 \(.p99_ms) ms, non-2xx \(.non2xx)"' >&2
}

# nginx_up BODYFILE: where nginx is installed, serves BODYFILE to any
# method at any path (POST gets the file through error_page); sets
# SERVER_PID and SERVER_URL. Returns 1 where it is not installed.
nginx_up() {
    local dir="$BENCH_TMP/nginx" port
    command -v nginx >/dev/null || return 1
    mkdir -p "$dir/www/v1/chat"
    cp "$1" "$dir/www/v1/chat/completions"
    chmod -R a+rX "$BENCH_TMP"
    for _ in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 12000))
        cat >"$dir/nginx.conf" <<EOF
worker_processes $(nproc);
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log;
$([ "$(id -u)" -eq 0 ] && echo "user root;")
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$port;
        location / {
            root $dir/www;
            default_type application/json;
            error_page 405 =200 \$uri;
        }
    }
}
EOF
        nginx -c "$dir/nginx.conf" -p "$dir" >/dev/null 2>&1 &
        SERVER_PID=$!
        BENCH_PIDS+=("$SERVER_PID")
        sleep 0.3
        if curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/v1/chat/completions"; then
            SERVER_URL="http://127.0.0.1:$port"
            return 0
        fi
        server_down
    done
    return 1
}

# 1 and 2: the ceiling (and nginx) against the mock's chat and models.
bench_throughput() {
    local answer="$BENCH_TMP/answer.json" chat=/v1/chat/completions c ceil
    echo "== throughput (wrk, ${BENCH_DURATION} s x $BENCH_RUNS runs)" >&2
    # The ceiling answers the mock's own chat answer: the same bytes.
    mock_up
    curl -sf -o "$answer" -H "Authorization: Bearer $BENCH_KEY" \
        -d @"$BENCH_TMP/chat.json" "$SERVER_URL$chat"
    server_down
    for c in $BENCH_CONNS; do
        server_up "$BENCH_BIN/nexus-ceiling" --body-file "$answer" \
            --threads "$BENCH_THREADS"
        wrk_runs "$SERVER_URL$chat" POST "$BENCH_TMP/chat.json" "$c" \
            >"$BENCH_TMP/runs"
        server_down
        ceil=$(bench_median <"$BENCH_TMP/runs" | jq .rps)
        throughput_row ceiling "POST $chat" "$c" "$ceil" <"$BENCH_TMP/runs"
        if nginx_up "$answer"; then
            wrk_runs "$SERVER_URL$chat" POST "$BENCH_TMP/chat.json" "$c" |
                throughput_row nginx "POST $chat" "$c" "$ceil"
            server_down
        fi
        mock_up
        wrk_runs "$SERVER_URL$chat" POST "$BENCH_TMP/chat.json" "$c" |
            throughput_row nexus-mock "POST $chat" "$c" "$ceil"
        wrk_runs "$SERVER_URL/v1/models" GET "" "$c" |
            throughput_row nexus-mock "GET /v1/models" "$c" "$ceil"
        server_down
    done
}

# streams_row N RAMP_MS: N paced streams (bench-paced: 200 ms to the first
# token, then 10 tokens per second, 8 tokens) opened evenly over RAMP_MS
# (0: at once), $BENCH_RUNS runs with a fresh mock each; records the median
# run as a row of "streams" (its ramp_ms tells the rows apart).
streams_row() {
    local i row
    for i in $(seq "$BENCH_RUNS"); do
        mock_up
        "$BENCH_BIN/nexus-streamgen" --url "$SERVER_URL" --key "$BENCH_KEY" \
            --model bench-paced --ttft-ms 200 --tokens-per-second 10 \
            --max-tokens 8 --streams "$1" --ramp-ms "$2" --pid "$SERVER_PID"
        server_down
    done >"$BENCH_TMP/runs"
    row=$(bench_median <"$BENCH_TMP/runs" |
        jq -c --slurpfile all "$BENCH_TMP/runs" '
            .errors_all_runs = ([$all[].errors] | add)
            | .peak_inflight_all_runs = [$all[].peak_inflight]
            | .kb_per_stream = ((.mock_peak_rss_kb - .mock_rss_before_kb) / .streams)')
    bench_row streams "$row"
    printf '%s\n' "$row" | jq -r '"  \(.streams) streams, ramp \(.ramp_ms) ms: peak \(.peak_inflight) open, \(.completed) completed, \(.errors) errors, first byte p99 \(.ttfb_ms.p99) ms, lateness p99 \(.lateness_ms.p99) ms, pacing p99 \(.pacing_lateness_ms.p99) ms, peak RSS \(.mock_peak_rss_kb) kB"' >&2
}

# 3: paced streams, N at once for each N of BENCH_STREAMS (the issue's
# measurement), then each N:MS of BENCH_STREAMS_RAMP: N opened over MS ms,
# so that the pacing of running streams is seen apart from the burst of
# opening them all at once.
bench_streams() {
    local n spec
    echo "== paced streams (nexus-streamgen, $BENCH_RUNS runs)" >&2
    for n in $BENCH_STREAMS; do
        streams_row "$n" 0
    done
    for spec in $BENCH_STREAMS_RAMP; do
        streams_row "${spec%%:*}" "${spec#*:}"
    done
}

# 4: non-streamed answers that each wait DELAY_MS, at 1,000 connections:
# throughput should stay near connections / delay. Runs once the fixture
# language can say latency (bench/fixture-delayed.yaml loads).
bench_delayed() {
    local fixture=${BENCH_DELAYED_FIXTURE:-$BENCH_SRC/fixture-delayed.yaml}
    local model=${BENCH_DELAYED_MODEL:-bench-delayed} delay=${BENCH_DELAYED_MS:-50}
    local conns=1000 body="$BENCH_TMP/delayed.json" row
    echo "== delayed answers (${delay} ms, $conns connections)" >&2
    if ! "$BENCH_MOCK" --check --fixtures "$fixture" >&2; then
        echo "  the delayed-answer fixture does not load" >&2
        bench_record delayed '{"available":false,"reason":"fixture refused"}'
        return 1
    fi
    jq -c --arg m "$model" '.model = $m' "$BENCH_TMP/chat.json" >"$body"
    server_up "$BENCH_MOCK" --port 0 --quiet --threads "$BENCH_THREADS" \
        --fixtures "$fixture"
    row=$(wrk_runs "$SERVER_URL/v1/chat/completions" POST "$body" "$conns" |
        bench_median | jq -c --argjson c "$conns" --argjson d "$delay" \
        '{available: true, connections: $c, delay_ms: $d,
          expected_rps: ($c * 1000 / $d)} + . | .ratio = .rps / .expected_rps')
    server_down
    bench_record delayed "$row"
    printf '%s\n' "$row" | jq -r '"  \(.rps | floor) req/s of \(.expected_rps) expected, p99 \(.p99_ms) ms"' >&2
}

# 6 (the start-up half): exec to the ready line and to the first answer,
# and the resident memory when idle after it.
bench_startup() {
    local i row
    echo "== start-up ($BENCH_RUNS runs)" >&2
    for i in $(seq "$BENCH_RUNS"); do
        "$BENCH_BIN/nexus-startup" --key "$BENCH_KEY" --model bench-model -- \
            "$BENCH_MOCK" --port 0 --quiet --threads "$BENCH_THREADS" \
            --fixtures "$BENCH_SRC/fixture.yaml"
    done >"$BENCH_TMP/runs"
    row=$(bench_median <"$BENCH_TMP/runs")
    bench_record startup "$row"
    printf '%s\n' "$row" | jq -r '"  ready \(.ready_ms) ms, first answer \(.first_answer_ms) ms, idle RSS \(.idle_rss_kb) kB"' >&2
}

# Writes $BENCH_JSON (every section recorded, with the machine's core count
# and the date) and prints it as tables.
bench_finish() {
    local f name
    {
        for f in "$BENCH_TMP"/rec/*.json; do
            [ -e "$f" ] || continue
            name=$(basename "$f" .json)
            jq -c --arg n "$name" '{($n): .}' "$f"
        done
        for f in "$BENCH_TMP"/rows/*.jsonl; do
            [ -e "$f" ] || continue
            name=$(basename "$f" .jsonl)
            jq -s -c --arg n "$name" '{($n): .}' "$f"
        done
    } | jq -s --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson cores "$(nproc)" \
        --arg commit "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)" \
        --argjson runs "$BENCH_RUNS" --argjson dur "$BENCH_DURATION" \
        --argjson threads "$BENCH_THREADS" \
        '{date: $date, cores: $cores, commit: $commit, runs: $runs,
          wrk_duration_s: $dur, threads: $threads} + add' >"$BENCH_JSON"
    echo
    bench_table "$BENCH_JSON"
    echo
    echo "(JSON: $BENCH_JSON)"
}

# bench_table FILE: the results as Markdown tables, for the README.
bench_table() {
    jq -r '
        def n(d): if . == null then "-" else (. * d | round) / d | tostring end;
        def ms: n(100);
        def mb: if . == null then null else . / 1024 end;
        def f2: if . == null then "-" else (. * 100 | round) as $x
            | "\($x / 100 | floor).\($x % 100 | if . < 10 then "0\(.)" else "\(.)" end)" end;
        "scripts/bench on \(.cores) cores, \(.date), commit \(.commit): median of \(.runs) runs, wrk \(.wrk_duration_s) s, \(.threads) threads",
        "",
        "| server | request | connections | req/s | p50 ms | p99 ms | of ceiling | non-2xx (all runs) |",
        "|---|---|---|---|---|---|---|---|",
        (.throughput // [] | .[] |
            "| \(.target) | \(.request) | \(.connections) | \(.rps | floor) | \(.p50_ms | ms) | \(.p99_ms | ms) | \(.ratio | f2) | \(.non2xx_all_runs) |"),
        "",
        def pct: "\(.p50 | ms) / \(.p99 | ms) / \(.max | ms)";
        "| paced streams | opened over ms | peak open | completed | errors (all runs) | first byte p50 / p99 / max ms | lateness p50 / p99 / max ms | pacing lateness p50 / p99 / max ms | peak RSS MB | KB per stream | CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        (.streams // [] | .[] |
            "| \(.streams) | \(.ramp_ms // 0) | \(.peak_inflight) | \(.completed) | \(.errors_all_runs) | \(.ttfb_ms | pct) | \(.lateness_ms | pct) | \(.pacing_lateness_ms // {} | pct) | \(.mock_peak_rss_kb | mb | n(10)) | \(.kb_per_stream | n(10)) | \(.mock_cpu_s | ms) |"),
        "",
        (.delayed // {} | if .available then
            "| delayed answers | connections | req/s | expected req/s | p50 ms | p99 ms | non-2xx |",
            "|---|---|---|---|---|---|---|",
            "| \(.delay_ms) ms | \(.connections) | \(.rps | floor) | \(.expected_rps) | \(.p50_ms | ms) | \(.p99_ms | ms) | \(.non2xx) |"
          else "delayed answers (50 ms, 1,000 connections): the fixture did not load" end),
        "",
        "| start-up to ready ms | to first answer ms | idle RSS MB | conformance suite ms |",
        "|---|---|---|---|",
        "| \(.startup.ready_ms | ms) | \(.startup.first_answer_ms | ms) | \(.startup.idle_rss_kb | mb | n(10)) | \(.conformance.median_ms | ms) |"
    ' "$1"
}
