#!/usr/bin/env bash
# Instructions per durable callback in the daemon's own code and libraries (user space, all threads),
# counted by valgrind's callgrind while openidd-bench drives callbacks with wrk. Counts, unlike
# timings, do not move with the host's noise, so two builds compare in one run each:
#   Benchmarks/instructions.sh [OPENIDD_BINARY]        (default .build/release/openidd; needs valgrind,
#                                                        wrk, nginx, curl; prints the top functions too)
# Under valgrind the daemon runs ~30 times slower, so its batches are smaller than at full speed and
# each sync's share per callback is larger: compare builds with this, not with a profile at speed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .build/release/openidd-bench ] || { echo "build first: swift build -c release" >&2; exit 1; }
command -v valgrind > /dev/null || { echo "needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }
binary="$(realpath "${1:-.build/release/openidd}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/wrapper" <<WRAP
#!/usr/bin/env bash
exec valgrind --tool=callgrind --callgrind-out-file=$work/callgrind.%p "$binary" "\$@"
WRAP
chmod +x "$work/wrapper"
.build/release/openidd-bench compare --seconds 5 --count 20000 --only callbacks --openidd "$work/wrapper" \
    > "$work/bench.out" 2>&1 &
bench=$!
wrk=""
for _ in $(seq 1 1200); do
    wrk="$(pgrep -f 'wrk.*callbacks.lua' | head -1 || true)"
    [ -n "$wrk" ] && break
    sleep 0.05
done
[ -n "$wrk" ] || { cat "$work/bench.out"; echo "wrk never started" >&2; exit 1; }
daemon="$(pgrep -f "valgrind.*callgrind.*$work" | head -1)"
socket="$(ls -td /tmp/openidd-bench.*/openidd.sock | head -1)"
bindings() {
    curl -s --max-time 5 --unix-socket "$socket" http://openidd/v1/health \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["bindings"])'
}
# Counted from half a second into wrk's run (start-up and the first connections left out) for 3 s.
sleep 0.5
before="$(bindings)"
callgrind_control -z "$daemon" > /dev/null 2>&1
sleep 3
callgrind_control -d "$daemon" > /dev/null 2>&1
after="$(bindings)"
wait "$bench"
callbacks=$((after - before))
profile="$(ls -S "$work"/callgrind.* | head -1)"
callgrind_annotate --threshold=100 "$profile" 2> /dev/null > "$work/annotated"
total="$(awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}' "$work/annotated")"
echo "callbacks counted: $callbacks"
echo "instructions per callback: $((total / callbacks))"
echo "top functions, instructions per callback (self):"
python3 - "$callbacks" "$work/annotated" <<'PY' | swift demangle --simplified --compact | cut -c1-150
import re, sys
callbacks = int(sys.argv[1])
rows = []
for line in open(sys.argv[2]):
    match = re.match(r'\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)', line)
    if match:
        name = re.sub(r'\s*\[.*\]$', '', match.group(2)).split(':', 1)[-1]
        rows.append((int(match.group(1).replace(',', '')) / callbacks, name))
# callgrind_annotate lists the threads' entry points first, with their whole threads' costs: skip them.
entries = ('clone', 'start_thread', 'NSThreadStart', 'Foundation6ThreadC4main', 'EventLoopServerC5start')
def entry(name):
    return name == 'PROGRAM TOTALS' or any(marker in name for marker in entries) or ('AppendLogC6append' in name and name.endswith('fU_TA'))
for cost, name in [row for row in rows if not entry(row[1])][:25]:
    print(f"  {cost:8.0f}  {name}")
PY
