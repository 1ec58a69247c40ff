# Shared by scripts/serve and scripts/test: installs the Debian packages the
# project needs (only those missing) and builds one configuration.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGES="build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev
libyaml-dev libcurl4-openssl-dev libcmocka-dev libxml2-utils clang-format curl
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
