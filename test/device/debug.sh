#!/usr/bin/env bash
# A backtrace of omnipython on the device's CPython with cuda-gdb (the image
# has no gdb): test/device/debug.sh [omnipython args...]
cd "$(dirname "$0")/../.."
cuda-gdb -batch -ex "handle SIGUSR1 SIGUSR2 SIGPROF nostop noprint" -ex run -ex bt -ex "info threads" \
    -ex "thread apply all bt 8" --args build-device/omnipython "$@" 2>&1 | tail -80
