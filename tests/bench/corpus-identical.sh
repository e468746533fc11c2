#!/usr/bin/env bash
# Whether two kvet binaries report the same on the corpus, byte for byte: the JSON report on
# ../shared/corpus/real, with and without --crds ../shared/corpus/crds. Run it before each
# commit that should change no finding (a speed or memory change), old binary first:
#
#   git stash && cargo build --release && cp target/release/kvet /tmp/kvet-before && git stash pop
#   cargo build --release && tests/bench/corpus-identical.sh /tmp/kvet-before target/release/kvet
set -euo pipefail
before=$(realpath "${1:?usage: corpus-identical.sh BEFORE AFTER}")
after=$(realpath "${2:?usage: corpus-identical.sh BEFORE AFTER}")
corpus=$(cd "$(dirname "$0")/../../../shared/corpus" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$corpus"
status=0
for args in "" "--crds crds"; do
    # shellcheck disable=SC2086 # the flags are words
    "$before" check --format json --kubernetes-version 1.33 $args real > "$out/before.json" || true
    # shellcheck disable=SC2086
    "$after" check --format json --kubernetes-version 1.33 $args real > "$out/after.json" || true
    if cmp -s "$out/before.json" "$out/after.json"; then
        echo "identical: real ${args:-(no flags)} ($(wc -c < "$out/after.json") bytes)"
    else
        echo "DIFFERENT: real ${args:-(no flags)}"
        diff <(python3 -m json.tool "$out/before.json") <(python3 -m json.tool "$out/after.json") | head -40 || true
        status=1
    fi
done
exit $status
