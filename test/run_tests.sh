#!/usr/bin/env bash
# The whole test suite: installs what is missing (Debian 12, as root), then
# builds omnipython three ways and runs each build's tests:
#   build/       release build: C unit tests + end-to-end tests (pytest), and
#                CPython's regression suite compared under python3.11 and
#                omnipython, default and full (test/regrtest/compare.py --quick)
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer: the same tests
#   build-fuzz/  clang + libFuzzer: 30 s of fuzzing the session reader, 20 s
#                each the pattern loader and the raw-metrics tokenizer
# then the other CPythons, each built and tested in a Debian chroot made with
# debootstrap (test/pythons/run.sh): 3.13 (Debian 13, trixie) and 3.14
# (Debian unstable, sid). OMNI_TEST_PYTHONS="trixie" (or "") picks fewer.
# Benchmarks are separate: /usr/bin/python3.11 test/bench/bench.py
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config clang libclang-rt-14-dev
          python3.11-dev libuv1-dev libmsgpack-dev libyaml-dev libhwloc-dev libpapi-dev
          python3-pytest python3-msgpack python3-pycodestyle python3-flake8 black
          hwloc time python3-jsonschema python3-coverage python3-numpy chromium radon
          libpython3.11-testsuite golang-go debootstrap)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches speedscope's schema for the export test; any npm will do.
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

jobs=$(nproc)
step() { echo; echo "=== $*"; }

# ctest in a build folder; the end-to-end cases that passed only on their
# second run (test/e2e/run_e2e.py) are named, not hidden
run_ctest() {
  rm -f "$1/e2e-second-runs.txt"
  (cd "$1" && shift && ctest --output-on-failure "$@")
  if [ -s "$1/e2e-second-runs.txt" ]; then
    echo "end-to-end cases that passed on their second run:"; sed 's/^/  /' "$1/e2e-second-runs.txt"
  fi
}

step "release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
run_ctest build

step "CPython's regression suite (45 modules) under python3.11 and omnipython, default and full"
/usr/bin/python3.11 test/regrtest/compare.py --quick --omnipython build/omnipython

step "AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S . -B build-asan -DOMNI_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
run_ctest build-asan

step "libFuzzer: the session reader, the pattern loader, the tokenizer"
CC=clang cmake -S . -B build-fuzz -DOMNI_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_session_reader fuzz_patterns fuzz_raw
(cd build-fuzz && ctest --output-on-failure -R fuzz)

for suite in ${OMNI_TEST_PYTHONS-trixie sid}; do
  test/pythons/run.sh "$suite"
done

echo; echo "all tests passed"
