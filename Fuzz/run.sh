#!/usr/bin/env bash
# Builds the libFuzzer target (with AddressSanitizer) from the HTTP1 sources and runs it.
#   Fuzz/run.sh [SECONDS]    default 600
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
mkdir -p "$out/corpus" Fuzz/corpus/requests
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name HTTP1 -emit-module -emit-module-path "$out/HTTP1.swiftmodule" \
    -emit-library -static -o "$out/libHTTP1.a" Sources/HTTP1/*.swift
swiftc -O -sanitize=fuzzer,address -parse-as-library -I "$out" -L "$out" -lHTTP1 Fuzz/RequestParserFuzz.swift -o "$out/fuzz-http1"
"$out/fuzz-http1" -max_total_time="${1:-600}" -max_len=4096 -timeout=5 -print_final_stats=1 \
    -artifact_prefix="$out/" "$out/corpus" Fuzz/corpus/requests
