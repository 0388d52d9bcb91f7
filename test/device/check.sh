#!/usr/bin/env bash
# Builds omnipython on a machine with an NVIDIA GPU and another CPython (the
# lent device machine: Ubuntu 24.04, Python 3.12, no package registry), runs
# the unit and end-to-end tests against that CPython, and profiles a PyTorch
# program on the GPU beside nvidia-smi. The build's libraries come as Debian
# .deb files in .deps/, unpacked there into a private prefix; fetch them here
# first (and carry .deps):
#   mkdir -p .deps && echo /.deps/ >> .git/info/exclude && (cd .deps && apt-get download \
#     libyaml-dev libyaml-0-2 libmsgpack-dev libmsgpackc2 libuv1-dev libuv1 libhwloc-dev \
#     libhwloc15 libpapi-dev libpapi7.0 libpfm4 pkgconf libpkgconf3 pkgconf-bin)
#   usage: test/device/check.sh [python-config] [e2e pytest args...]
# E2E=0 leaves the end-to-end tests out. Logs go to $OUT (or ./device-out).
set -uo pipefail
cd "$(dirname "$0")/../.."
cfg=${1:-/usr/bin/python3.12-config}; shift || true
out=${OUT:-$PWD/device-out}; mkdir -p "$out"
py=${cfg%-config}
venv_py=/opt/torch/.venv/bin/python3

{
  echo "== machine"; uname -a; nproc; gcc --version | head -1; cmake --version | head -1
  $py -VV; ls "$($cfg --configdir)" | head; nvidia-smi -L
} >"$out/machine.log" 2>&1

deps=/tmp/omni-deps
rm -rf "$deps"; mkdir -p "$deps"
for f in .deps/*.deb; do dpkg -x "$f" "$deps"; done
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PKG_CONFIG_LIBDIR=$deps/usr/lib/x86_64-linux-gnu/pkgconfig:$deps/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$deps
# pkg-config leaves out the system folders, which the prefix mirrors
export CPATH=$deps/usr/include LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu

b=build-device
{ cmake -S . -B $b -DOMNI_PYTHON_CONFIG="$cfg" -DPKG_CONFIG_EXECUTABLE=$deps/usr/bin/pkgconf \
        -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath,$deps/usr/lib/x86_64-linux-gnu" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build $b -j"$(nproc)"; } >"$out/build.log" 2>&1
echo "build: $?" | tee -a "$out/summary.log"
[ -x $b/omnipython ] || exit 1
(cd $b && ctest -E e2e --output-on-failure) >"$out/unit.log" 2>&1
echo "unit: $?" | tee -a "$out/summary.log"

# The GPU: a PyTorch program from the venv's packages, under omnipython.
site=$($venv_py -c 'import site; print(site.getsitepackages()[0])')
g=/tmp/gpu.omni
# nvidia-smi beside it, as the independent reading of the same GPU.
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,power.draw --format=csv,nounits \
    -lms 200 >"$out/smi_gpu.csv" 2>&1 &
smi_gpu=$!
( while sleep 0.2; do nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits; done ) \
    >"$out/smi_apps.csv" 2>&1 &
smi_apps=$!
PYTHONPATH=$site timeout 120 $b/omnipython --interval 100 --out $g test/device/gpu_workload.py 3 6 \
    >"$out/gpu_run.log" 2>&1
echo "gpu run: $?" | tee -a "$out/summary.log"
kill $smi_gpu $smi_apps 2>/dev/null
$b/omnipython --report $g --format json >"$out/gpu_report.json" 2>>"$out/gpu_run.log"
$b/omnipython --report $g >"$out/gpu_report.txt" 2>>"$out/gpu_run.log"
$b/omnipython --hw --format json >"$out/hw.json" 2>&1
echo "reports: $?" | tee -a "$out/summary.log"

[ "${E2E:-1}" = 1 ] || exit 0
# End to end, against the same CPython (pytest and msgpack from the venv).
OMNIPYTHON=$PWD/$b/omnipython OMNI_TEST_PYTHON=$py timeout 480 \
  $venv_py -m pytest -q -p no:cacheprovider --timeout 120 test/e2e "$@" >"$out/e2e.log" 2>&1
echo "e2e: $?" | tee -a "$out/summary.log"
