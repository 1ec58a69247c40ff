# Shared by scripts/serve and scripts/test: installs the Debian packages the
# project needs (only those missing) and builds one configuration.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGES="build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev
libyaml-dev libcurl4-openssl-dev libcmocka-dev libpcre2-dev libxml2-utils clang-format curl
clang libclang-rt-14-dev"

# ensure_packages [EXTRA...]: installs whatever of $PACKAGES and the extra
# packages (a script's own, such as scripts/bench's wrk) is missing,
# running apt-get update once.
ensure_packages() {
    local missing=() p sudo=""
    for p in $PACKAGES "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || {
            echo "scripts: need root (or sudo) to install: ${missing[*]}" >&2
            return 1
        }
        sudo="sudo"
    fi
    echo "scripts: installing ${missing[*]}" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >&2
}

# build DIR [cmake args...]: configures (once) and builds into $ROOT/DIR.
build() {
    local dir="$ROOT/$1"
    shift
    cmake -S "$ROOT" -B "$dir" "$@" >/dev/null &&
        cmake --build "$dir" --parallel "$(nproc)" -- --no-print-directory
}

# The real-client tests (tests/clients, mockserver/tests/test_clients.c)
# need Node.js 20 or later with its own npm, and the locked packages. Debian's
# nodejs (18) is too old and its npm package conflicts with the npm Node
# ships, so neither is ever installed here. npm ci runs only when
# package-lock.json changed since the last install (a copy of it in
# node_modules says which), so a rerun needs no network; npm's cache is
# ~/.npm.
ensure_clients() {
    local dir="$ROOT/tests/clients" version major
    version=$(node --version 2>/dev/null) || version=""
    major=${version#v}
    major=${major%%.*}
    if ! [[ "$major" =~ ^[0-9]+$ ]] || [ "$major" -lt 20 ]; then
        echo "scripts: the real-client tests need Node.js 20 or later" \
            "(node --version: ${version:-not installed})" >&2
        return 1
    fi
    cmp -s "$dir/package-lock.json" "$dir/node_modules/.nexus-lock" && return 0
    command -v npm >/dev/null || {
        echo "scripts: npm (the one shipped with Node.js) is missing" >&2
        return 1
    }
    echo "scripts: npm ci in tests/clients" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --prefer-offline \
        --engine-strict --loglevel=error >&2) &&
        cp "$dir/package-lock.json" "$dir/node_modules/.nexus-lock"
}
