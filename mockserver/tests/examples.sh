#!/usr/bin/env bash
# Runs every example of fixtures/examples/ as its header documents it: for
# each file, a mock serves it on a free port, and each "#   curl ..."
# command of the header (continuation lines joined) runs in order; its
# output (stdout and stderr) must contain every "#   => TEXT" line that
# follows it, and none of its "#   !> TEXT" lines.
set -euo pipefail
dir="$NEXUS_SOURCE_DIR/fixtures/examples"
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

files=0
commands=0
fail=0
for fixture in "$dir"/*.yaml; do
    name=$(basename "$fixture")
    # Commands to ex-N.sh, their expectations to ex-N.want, in order.
    rm -f "$work"/ex-*
    awk -v dir="$work" '
        /^#   curl / { n++; cmd = substr($0, 5); cont = (cmd ~ /\\$/)
                     sub(/\\$/, "", cmd)
                     if (!cont) print cmd > sprintf("%s/ex-%02d.sh", dir, n)
                     next }
        cont && /^#     / { line = substr($0, 5); cont = (line ~ /\\$/)
                     sub(/\\$/, "", line); cmd = cmd line
                     if (!cont) print cmd > sprintf("%s/ex-%02d.sh", dir, n)
                     next }
        /^#   => / { print "=" substr($0, 8) >> sprintf("%s/ex-%02d.want", dir, n) }
        /^#   !> / { print "!" substr($0, 8) >> sprintf("%s/ex-%02d.want", dir, n) }
    ' "$fixture"
    ls "$work"/ex-*.sh >/dev/null 2>&1 || continue
    files=$((files + 1))
    # The previous file's listening line must be gone before this mock
    # starts: its shell empties the file only once it runs, so the wait
    # below could otherwise read the old line and then an empty file.
    rm -f "$work/listen" "$work/stderr"
    "$NEXUS_MOCK_BIN" --port 0 --quiet --fixtures "$fixture" >"$work/listen" 2>"$work/stderr" &
    pid=$!
    # Up to 20 s: a sanitizer build on a loaded machine starts slowly.
    for _ in $(seq 400); do
        grep -qs listening "$work/listen" && break
        sleep 0.05
    done
    url=$(sed -n 's/^nexus-mock listening on //p' "$work/listen")
    [ -n "$url" ] || { echo "FAIL: $name: the mock did not start: $(cat "$work/listen" "$work/stderr"; ps -p $pid -o stat=,etime=)"; exit 1; }
    for ex in "$work"/ex-*.sh; do
        commands=$((commands + 1))
        cmd=$(sed -e "s#http://127.0.0.1:8080#$url#g" "$ex")
        out=$(bash -c "$cmd" 2>&1) || true
        want="${ex%.sh}.want"
        [ -f "$want" ] || { echo "FAIL: $name: no '=>' line after: $cmd"; fail=$((fail + 1)); continue; }
        while IFS= read -r expect; do
            text=${expect#?}
            if [ "${expect:0:1}" = "=" ] && ! grep -qF -- "$text" <<<"$out"; then
                echo "FAIL: $name: $cmd"
                echo "  expected: $text"
                echo "  got: $(head -c 400 <<<"$out")"
                fail=$((fail + 1))
            elif [ "${expect:0:1}" = "!" ] && grep -qF -- "$text" <<<"$out"; then
                echo "FAIL: $name: $cmd"
                echo "  not expected: $text"
                echo "  got: $(head -c 400 <<<"$out")"
                fail=$((fail + 1))
            fi
        done <"$want"
    done
    kill "$pid"
    wait "$pid" || true
    pid=""
done
[ "$files" -ge 10 ] || { echo "only $files documented examples found"; exit 1; }
echo "$files examples, $commands commands, $fail failed"
[ "$fail" -eq 0 ]
