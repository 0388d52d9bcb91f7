#!/bin/bash
# chroot.sh - the other CPythons of issue 17, each in a Debian chroot made
# with debootstrap from Debian's registry: trixie (Debian 13, python3.13)
# and sid (unstable, python3.14; its release file is past its validity
# date on this registry, hence Acquire::Check-Valid-Until=false).
#
#   test/pythons/chroot.sh SUITE make        # debootstrap + the build's packages (cached)
#   test/pythons/chroot.sh SUITE run CMD...  # CMD in the chroot, the source at /src
#
# Chroots live under $OMNI_CHROOTS (default /var/cache/omnipython/chroots):
# made once per machine, reused by later runs. Root only (debootstrap, mounts).
set -euo pipefail

suite=${1:?usage: chroot.sh trixie|sid make|run ...}
what=${2:?usage: chroot.sh trixie|sid make|run ...}
shift 2
case $suite in
  trixie) py=python3.13 ;;
  sid) py=python3.14 ;;
  *) echo "chroot.sh: unknown suite $suite (trixie or sid)" >&2; exit 2 ;;
esac
root=${OMNI_CHROOTS:-/var/cache/omnipython/chroots}/$suite
src=$(cd "$(dirname "$0")/../.." && pwd)
apt_opts=(-o Acquire::Check-Valid-Until=false -o Dpkg::Use-Pty=0 -o APT::Install-Recommends=0)

# The build's and the tests' packages, as test/run_tests.sh installs them on
# Debian 12 (msgpack-c's -dev package under its Debian 13 name).
packages=(build-essential cmake pkg-config ca-certificates
          "$py" "$py-dev" "lib$py-testsuite"
          libmsgpack-c-dev libuv1-dev libyaml-dev libhwloc-dev libpapi-dev
          python3-msgpack python3-pytest python3-yaml python3-pycodestyle python3-flake8
          black hwloc time util-linux python3-jsonschema python3-coverage python3-numpy
          radon golang-go)

mounted() { mountpoint -q "$root/$1"; }

mount_all() {
  mkdir -p "$root/src"
  mounted proc || mount -t proc proc "$root/proc"
  # recursive: the cgroup file systems under /sys/fs/cgroup too (--hw reads them)
  mounted sys || { mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"; }
  mounted dev || mount --bind /dev "$root/dev"
  mounted dev/pts || mount --bind /dev/pts "$root/dev/pts"
  mounted src || mount --bind "$src" "$root/src"
}

umount_all() {
  for m in src dev/pts dev sys proc; do
    if mounted "$m"; then umount -R -l "$root/$m" || true; fi
  done
}

case $what in
  make)
    if [ ! -x "$root/usr/bin/apt-get" ]; then
      mkdir -p "$(dirname "$root")"
      debootstrap --variant=minbase --include=ca-certificates "$suite" "$root" \
          http://deb.debian.org/debian
    fi
    mount_all
    trap umount_all EXIT
    chroot "$root" apt-get "${apt_opts[@]}" update -q
    DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get "${apt_opts[@]}" install -y -q \
        "${packages[@]}"
    # The CPython source package, for the HACL* objects the static libpython
    # lacks (runtime/pybuild.cmake): its Modules/_hacl at /usr/src/python3.X.
    # Where the registry does not serve it (sid's answers 404 today), the
    # build falls back to the shared libpython and says so.
    if [ ! -d "$root/usr/src/$py/Modules/_hacl" ]; then
      grep -q '^deb-src' "$root/etc/apt/sources.list.d/src.list" 2>/dev/null ||
        echo "deb-src http://deb.debian.org/debian $suite main" > "$root/etc/apt/sources.list.d/src.list"
      chroot "$root" apt-get "${apt_opts[@]}" update -q
      chroot "$root" /bin/bash -c "set -e; rm -rf /tmp/pysrc; mkdir -p /tmp/pysrc; cd /tmp/pysrc
          apt-get ${apt_opts[*]} source -q --download-only $py
          mkdir -p /usr/src/$py
          tar xJf ${py}_*.orig.tar.xz --strip-components=1 -C /usr/src/$py --wildcards '*/Modules/_hacl/*'
          rm -rf /tmp/pysrc" || echo "chroot.sh: no source package for $py: the build will use the shared libpython" >&2
    fi
    ;;
  run)
    mount_all
    trap umount_all EXIT
    chroot "$root" /bin/bash -c "cd /src && $*"
    ;;
  *)
    echo "chroot.sh: make or run, not $what" >&2
    exit 2
    ;;
esac
