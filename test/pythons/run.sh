#!/bin/bash
# run.sh - the test suite of one other CPython, in its Debian chroot
# (chroot.sh): the build against that distribution's python3.X, the C unit
# and end-to-end tests (compared with that python3.X and its tools),
# CPython's regression-suite harness (test/regrtest/compare.py --quick) and
# the cost benchmark's short form (reported, not judged).
#
#   test/pythons/run.sh trixie    # python3.13, Debian 13
#   test/pythons/run.sh sid       # python3.14, Debian unstable
#
# The build folder stays in the chroot (/var/tmp/omnipython-build) between
# runs on one machine; a fresh machine makes the chroot and builds anew.
set -euo pipefail

suite=${1:?usage: run.sh trixie|sid}
case $suite in
  trixie) py=python3.13 ;;
  sid) py=python3.14 ;;
  *) echo "run.sh: unknown suite $suite (trixie or sid)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
chroot_sh=$here/chroot.sh
build=/var/tmp/omnipython-build

step() { echo; echo "=== $py ($suite): $*"; }

step "chroot (debootstrap once, then the packages)"
bash "$chroot_sh" "$suite" make >/tmp/omnipython-chroot-$suite.log 2>&1 ||
  { tail -n 40 /tmp/omnipython-chroot-$suite.log; exit 1; }

step "build"
bash "$chroot_sh" "$suite" run \
  "cmake -S . -B $build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOMNI_PYTHON_CONFIG=/usr/bin/$py-config \
     | grep -E 'embeds|HACL|Warning|does not link' || true; cmake --build $build -j$(nproc)"

step "unit and end-to-end tests"
bash "$chroot_sh" "$suite" run "cd $build && rm -f e2e-second-runs.txt && ctest --output-on-failure; rc=\$?; \
  if [ -s e2e-second-runs.txt ]; then echo 'end-to-end cases that passed on their second run:'; sed 's/^/  /' e2e-second-runs.txt; fi; exit \$rc"

step "CPython's regression suite under $py and omnipython, default and full"
bash "$chroot_sh" "$suite" run \
  "$py test/regrtest/compare.py --quick --python /usr/bin/$py --omnipython $build/omnipython"

step "the cost benchmark, short form"
bash "$chroot_sh" "$suite" run "$py test/bench/bench.py --short --omnipython $build/omnipython"
