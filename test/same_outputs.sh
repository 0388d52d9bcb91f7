#!/usr/bin/env bash
# Whether two builds of omnipython print the same reports, exports and scans
# (a refactoring's check: behaviour unchanged, byte for byte).
#   test/same_outputs.sh OLD/omnipython NEW/omnipython [WORKDIR]
# Sessions are recorded once, with OLD, and read by both; --scan runs with
# each. Prints every output that differs and exits 1, else 0.
set -uo pipefail
old=$(realpath "$1"); new=$(realpath "$2")
src=$(cd "$(dirname "$0")/.." && pwd)
work=${3:-$(mktemp -d)}
mkdir -p "$work/sessions" "$work/old" "$work/new"
cd "$work"
record() {  # name, omnipython options and Python arguments
  local name=$1; shift
  "$old" --quiet --out "sessions/$name.omni" "$@" >/dev/null 2>&1 || true
}
for ex in "$src"/examples/*.py; do
  record "$(basename "$ex" .py)" "$ex"
done
record memory --memory "$src/examples/memory_leak.py"
record churn --mode full "$src/examples/alloc_churn.py"
record repeat --repeat 3 "$src/examples/variable_work.py"
outputs() {  # omnipython, output folder
  local bin=$1 out=$2
  for s in sessions/*.omni; do
    local n; n=$(basename "$s" .omni)
    for f in text md json html; do
      NO_COLOR=1 "$bin" --report "$s" --format "$f" >"$out/$n.$f" 2>&1; echo "rc=$?" >>"$out/$n.$f"
    done
    for e in collapsed speedscope pstats chrome; do
      "$bin" --export "$e" "$s" --out "$out/$n.$e" >"$out/$n.$e.log" 2>&1; echo "rc=$?" >>"$out/$n.$e.log"
    done
  done
  "$bin" --diff sessions/hotspots.omni sessions/cpu_bound.omni >"$out/diff.text" 2>&1; echo "rc=$?" >>"$out/diff.text"
  "$bin" --diff sessions/repeat.omni sessions/repeat.omni --format json >"$out/diff.json" 2>&1
  "$bin" --list-patterns --format json >"$out/patterns.json" 2>&1
  for f in text json html; do
    "$bin" --scan "$src/test/scripts" --format "$f" >"$out/scan-scripts.$f" 2>&1
    "$bin" --scan "$src/examples" --format "$f" >"$out/scan-examples.$f" 2>&1; echo "rc=$?" >>"$out/scan-examples.$f"
  done
  "$bin" --report sessions/memory.omni --format md --explain "$out/explain.json" >/dev/null 2>&1
  "$bin" --no-such-option >"$out/badopt" 2>&1; echo "rc=$?" >>"$out/badopt"
  local bad=("--jobs 0" "--jobs=x" "--threshold -1" "--timeout 0" "--repeat 0" "--sample-rate 2000"
             "--carbon-intensity 0" "--export foo" "--process 0" "--memory-interval 0"
             "--interval -1" "--mode x" "--format x" "--out" "--scan" "--exclude a --jobs 2")
  for a in "${bad[@]}"; do
    # shellcheck disable=SC2086
    "$bin" $a -c pass 2>&1 | sed "s#$bin#omnipython#" >>"$out/badopts"; echo "$a: rc=${PIPESTATUS[0]}" >>"$out/badopts"
  done
  "$bin" --omni-help >"$out/help" 2>&1
}
outputs "$old" old
outputs "$new" new
# A scan says how long it took: the one number that differs between runs.
sed -i -E 's/"seconds":[0-9.e+-]+/"seconds":T/; s/in [0-9.]+ s on/in T s on/' old/scan-* new/scan-*
if diff -r old new >diff.txt; then
  echo "same: $(ls old | wc -l) outputs of $(ls sessions | wc -l) sessions ($work)"
else
  echo "DIFFERENT ($work/diff.txt):"; diff -rq old new; exit 1
fi
