#!/usr/bin/env bash
# Runs the README's CI recipe ("In a client's CI") as written: its fixture
# block becomes mock.yaml and its shell block runs with nexus-mock on PATH
# and the official openai SDK (tests/clients/readme_recipe.mjs) in place of
# `npm test`. The SDK must get the chosen reply after one 429, and the mock
# must exit 0 on the recipe's SIGTERM.
set -euo pipefail
readme="$NEXUS_SOURCE_DIR/README.md"
if ! command -v node >/dev/null; then
    echo "node is not installed"; exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
block() { # the code block after the marker naming $1
    awk -v name="$1" '
        $0 == "<!-- ci-recipe: " name " -->" { found = 1; next }
        found && /^```[a-z]+$/ { inblock = 1; next }
        inblock && /^```$/ { exit }
        inblock { print }' "$readme"
}
block mock.yaml >"$dir/mock.yaml"
block run.sh >"$dir/run.sh"
[ -s "$dir/mock.yaml" ] && [ -s "$dir/run.sh" ] || { echo "recipe blocks not found in README.md"; exit 1; }
grep -q 'npm test' "$dir/run.sh" || { echo "the recipe no longer runs npm test"; exit 1; }
sed -i "s#npm test#node $NEXUS_SOURCE_DIR/tests/clients/readme_recipe.mjs#" "$dir/run.sh"
mkdir "$dir/bin"
ln -s "$NEXUS_MOCK_BIN" "$dir/bin/nexus-mock"
cd "$dir"
out=$(PATH="$dir/bin:$PATH" timeout 30 bash -e run.sh 2>stderr.txt) || {
    echo "the recipe failed:"; cat stderr.txt; exit 1; }
want='{"content":"Sunny, 22 °C.","attempts":[429,200]}'
if [ "$out" != "$want" ]; then
    echo "want $want"; echo "got  $out"; cat stderr.txt; exit 1
fi
echo "recipe: $out"
