#!/usr/bin/env bash
# Skip a build step when its inputs did not change since it last succeeded.
#
#   scripts/stamp.sh STAMP_FILE INPUT... -- COMMAND...
#
# Hashes the INPUT files and directories (file names and contents; node_modules, dist and
# test-artifacts inside them are left out), and runs COMMAND only when the hash differs from
# the one in STAMP_FILE, which it then rewrites. `make run` uses it so that a second start
# on an unchanged checkout neither rebuilds the web app nor reinstalls Python packages.
set -euo pipefail

stamp=$1
shift
inputs=()
while (($#)) && [[ $1 != -- ]]; do
    inputs+=("$1")
    shift
done
[[ ${1:-} == -- ]] || { echo "usage: $0 STAMP_FILE INPUT... -- COMMAND..." >&2; exit 2; }
shift

hash=$(
    find "${inputs[@]}" \( -name node_modules -o -name dist -o -name test-artifacts \) -prune \
        -o -type f -print0 \
        | LC_ALL=C sort -z \
        | xargs -0 sha256sum \
        | sha256sum | cut -d' ' -f1
)
if [[ -f $stamp && $(cat "$stamp") == "$hash" ]]; then
    echo "up to date: $* (inputs unchanged since the last run)"
    exit 0
fi
"$@"
mkdir -p "$(dirname "$stamp")"
echo "$hash" >"$stamp"
