#!/usr/bin/env bash
# Builds a libFuzzer target (with AddressSanitizer) from the module's sources and runs it.
#   Fuzz/run.sh [SECONDS] [TARGET]    default 600 http1
#   Fuzz/run.sh --list                the targets, one a line (.ci/run runs each for 60 s)
#   http1:      the HTTP/1.1 request and response parsers (Fuzz/RequestParserFuzz.swift)
#   json:       the ledger's flat JSON parser against Foundation's (Fuzz/FlatJSONFuzz.swift)
#   jsonparser: the strict JSON parser of callbacks, IPC and configuration (Fuzz/JSONParserFuzz.swift)
# The seeds in Fuzz/corpus/ are kept in the repository; what a run adds goes to
# .build-fuzz/corpus-TARGET. A crash, a leak or a timeout exits non-zero and leaves the input
# in .build-fuzz/TARGET-*.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(http1 json jsonparser)
if [ "${1:-}" = --list ]; then
    printf '%s\n' "${targets[@]}"
    exit 0
fi
out=.build-fuzz
seconds="${1:-600}"
target="${2:-http1}"
case "$target" in
http1) module=HTTP1 harness=Fuzz/RequestParserFuzz.swift seeds=Fuzz/corpus/requests ;;
json) module=JSON harness=Fuzz/FlatJSONFuzz.swift seeds=Fuzz/corpus/json ;;
jsonparser) module=JSON harness=Fuzz/JSONParserFuzz.swift seeds=Fuzz/corpus/jsonparser ;;
*) echo "usage: Fuzz/run.sh [SECONDS] [${targets[*]}] | --list" >&2; exit 2 ;;
esac
mkdir -p "$out/corpus-$target" "$seeds"
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name "$module" -emit-module \
    -emit-module-path "$out/$module.swiftmodule" -emit-library -static -o "$out/lib$module.a" Sources/$module/*.swift
swiftc -O -sanitize=fuzzer,address -parse-as-library -I "$out" -L "$out" -l"$module" "$harness" -o "$out/fuzz-$target"
"$out/fuzz-$target" -max_total_time="$seconds" -max_len=4096 -timeout=5 -print_final_stats=1 \
    -artifact_prefix="$out/$target-" "$out/corpus-$target" "$seeds"
