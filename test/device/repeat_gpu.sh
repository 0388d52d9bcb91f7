#!/usr/bin/env bash
# Runs the GPU workload under omnipython N times inside cuda-gdb (the image
# has no gdb): a crash that comes and goes gets its threads' backtraces.
#   N=3 test/device/repeat_gpu.sh [omnipython options...]
cd "$(dirname "$0")/../.."
export PYTHONPATH=$(/opt/torch/.venv/bin/python3 -c 'import site; print(site.getsitepackages()[0])')
for i in $(seq "${N:-3}"); do
  timeout 120 cuda-gdb -batch -ex "handle SIGUSR1 SIGUSR2 SIGPROF SIGPIPE nostop noprint" -ex run \
    -ex "thread apply all bt 12" --args build-device/omnipython --quiet "$@" --out /tmp/r.omni \
    test/device/gpu_workload.py 3 6 >/tmp/r.log 2>&1
  echo "[$i] rc=$?"
  grep -v "^\[New Thread\|exited\]\|^\[Thread" /tmp/r.log | grep -A400 -m1 "received signal" | head -150
  grep -m1 "products" /tmp/r.log
done
