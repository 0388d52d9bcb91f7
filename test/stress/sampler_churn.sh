#!/usr/bin/env bash
# The sampler's stress test (issue 5): 1,000 runs of a program that creates
# and destroys threads and generators rapidly, sampled at the highest rate
# (--mode full: 1 kHz). Every run must end as under python3 (status 0) and
# leave a complete session. Not in the default test command: it takes minutes.
#   test/stress/sampler_churn.sh [RUNS] [OMNIPYTHON]
set -euo pipefail
runs=${1:-1000}
omni=${2:-$(dirname "$0")/../../build/omnipython}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/churn.py" <<'PY'
import threading
def gen():
    for i in range(50):
        yield i
def work():
    for _ in range(200):
        sum(gen())
for _ in range(40):
    ts = [threading.Thread(target=work) for _ in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
PY
for ((i = 1; i <= runs; i++)); do
  "$omni" --quiet --mode full --out "$dir/s.omni" "$dir/churn.py"
  "$omni" --report "$dir/s.omni" --format json > /dev/null
  if ((i % 100 == 0)); then echo "$i runs"; fi
done
echo "all $runs runs ended normally"
