#!/usr/bin/env bash
# The bench tools, and the server plumbing of scripts/bench_load.sh, at
# tiny scale against a real mock, so the harness cannot rot: 20 paced
# streams all complete with their 11 events and no error, 50 opened over a
# 200 ms ramp do too and really are spread over it, the ceiling answers its
# body byte for byte, and the start-up timer sees a 200 and a clean exit.
# Every process started here is stopped here.
set -euo pipefail
ROOT=$NEXUS_SOURCE_DIR
BENCH_BIN=$NEXUS_BENCH_DIR
BENCH_MOCK=$NEXUS_MOCK_BIN
. "$ROOT/scripts/bench_load.sh"
bench_init
fail() { echo "FAIL: $*"; exit 1; }
# figure REPORT FIELD KEY: KEY (p50, max) of the {p50, p99, max} FIELD.
figure() {
    printf '%s' "$1" | sed -n "s/.*\"$2\":{[^}]*\"$3\":\([-0-9.e]*\)[,}].*/\1/p"
}
# on_schedule REPORT: the generator's schedule is the mock's. Timed from
# each stream's first byte (its headers, sent as the mock's schedule
# starts), the median event is within 50 ms of it (a token off would be
# 100 ms off), however long the server took to start the streams. Timed
# from the request written, each event is later by its stream's time to
# first byte, no less and no more: so is the median.
on_schedule() {
    local pace late ttfb
    pace=$(figure "$1" pacing_lateness_ms p50)
    late=$(figure "$1" lateness_ms p50)
    ttfb=$(figure "$1" ttfb_ms max)
    awk -v v="$pace" 'BEGIN { exit !(v != "" && v > -50 && v < 50) }' ||
        fail "median pacing lateness '$pace' ms: the schedules differ"
    # 0.01 ms for the figures' rounding to 6 digits
    awk -v l="$late" -v p="$pace" -v t="$ttfb" \
        'BEGIN { exit !(l != "" && t != "" && l >= p - 0.01 && l <= p + t + 0.01) }' ||
        fail "median lateness '$late' ms is not the median pacing lateness '$pace' ms plus at most the longest time to first byte '$ttfb' ms"
}

# 20 streams of bench-paced (200 ms, then 10 tokens/s; 8 tokens): 11
# events each (role, 8 tokens, finish, [DONE]).
mock_up
report=$(timeout 30 "$BENCH_BIN/nexus-streamgen" --url "$SERVER_URL" \
    --key "$BENCH_KEY" --model bench-paced --streams 20 --max-tokens 8 \
    --timeout-s 20 --pid "$SERVER_PID")
# 50 more, opened evenly over 200 ms: stream i at i * 200 / 50 ms, the
# last (i = 49) 196 ms after the first.
ramped=$(timeout 30 "$BENCH_BIN/nexus-streamgen" --url "$SERVER_URL" \
    --key "$BENCH_KEY" --model bench-paced --streams 50 --max-tokens 8 \
    --ramp-ms 200 --timeout-s 20)
server_down
echo "streamgen: $report"
case $report in
'{"streams":20,"completed":20,"errors":0,'*'"events":220,'*'"mock_peak_rss_kb":'*) ;;
*) fail "streamgen did not report 20 completed streams of 11 events, 0 errors" ;;
esac
on_schedule "$report"

echo "streamgen --ramp-ms 200: $ramped"
case $ramped in
'{"streams":50,"completed":50,"errors":0,'*'"events":550,'*'"ramp_ms":200,'*) ;;
*) fail "streamgen --ramp-ms 200 did not report 50 completed streams of 11 events, 0 errors" ;;
esac
# Opened at once, the last stream would follow the first within a few ms.
last=$(printf '%s' "$ramped" | sed -n 's/.*"last_open_ms":\([-0-9.e]*\).*/\1/p')
awk -v v="$last" 'BEGIN { exit !(v != "" && v >= 150) }' ||
    fail "last stream opened $last ms after the first, not over the 200 ms ramp"
on_schedule "$ramped"

# The ceiling answers any request with its body file, byte for byte.
printf '{"id":"chatcmpl-smoke","object":"chat.completion"}\n' >"$BENCH_TMP/body"
server_up "$BENCH_BIN/nexus-ceiling" --body-file "$BENCH_TMP/body" --threads 2
status=$(curl -s -o "$BENCH_TMP/got" -w '%{http_code}' -X POST \
    -d '{"model":"m"}' "$SERVER_URL/v1/chat/completions")
server_down
[ "$status" = 200 ] || fail "ceiling answered $status"
cmp -s "$BENCH_TMP/body" "$BENCH_TMP/got" || fail "ceiling body differs"

# The start-up timer: a ready line, a 200 to its chat completion, exit 0.
report=$(timeout 30 "$BENCH_BIN/nexus-startup" --key "$BENCH_KEY" \
    --model bench-model -- "$BENCH_MOCK" --port 0 --quiet \
    --fixtures "$BENCH_SRC/fixture.yaml")
echo "startup: $report"
case $report in
'{"ready_ms":'*'"status":200,"idle_rss_kb":'[1-9]*'"exit":0}') ;;
*) fail "startup did not report a 200 and a clean exit" ;;
esac
echo "4 passed, 0 failed"
