#!/usr/bin/env bash
# Rehearses the GPU check here, without a GPU (docs/models.md#the-gpu-check):
# a bare Debian 12 (debootstrap --variant=minbase) with only what stands for
# the GPU host's own tools — a compiler, cmake, ninja, and Debian's
# libtorch-dev and python3-torch for its PyTorch (no pkg-config, no
# transformers) — then `scripts/gpu-check.sh --cpu` inside it on a copy of
# the working tree and the bundle (.device, scripts/device-bundle.sh). It
# shows that the build takes nothing from the system but torch and the base.
# Needs root and Debian's registry; not part of .ci/run.
# Usage: sudo scripts/rehearse-gpu-check.sh [ROOTFS]   (default: build-rehearsal/rootfs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rootfs=${1:-$root/build-rehearsal/rootfs}
[[ -d $root/.device/debs ]] || "$root/scripts/device-bundle.sh"

if [[ ! -x $rootfs/usr/bin/cmake ]]; then
  mkdir -p "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian
  cp /etc/resolv.conf "$rootfs/etc/"
  chroot "$rootfs" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get install -y -qq --no-install-recommends \
    g++ cmake ninja-build libtorch-dev python3-torch
fi

# What the host stand-ins brought that the bundle also carries (Debian's
# torch loads libzmq, libsodium...): for these the rehearsal shows that the
# bundle's copies are the ones built against and loaded, not that the
# system lacks them.
installed=$(chroot "$rootfs" dpkg-query -W -f '${Package}\n')
overlap=$(grep -x -F -f "$root/.device/packages.txt" <<<"$installed" || true)
echo "rehearse: the stand-ins also installed:" $overlap

mountpoint -q "$rootfs/proc" || mount -t proc proc "$rootfs/proc"
trap 'umount "$rootfs/proc"' EXIT
rm -rf "$rootfs/src" && mkdir -p "$rootfs/src"
git -C "$root" ls-files -co --exclude-standard | tar -C "$root" -cf - -T - | tar -C "$rootfs/src" -xf -
cp -r "$root/.device" "$rootfs/src/"
chroot "$rootfs" env -i PATH=/usr/bin:/bin HOME=/root OUT=/src/out PYTHON=python3 \
  TORCH_CMAKE_PREFIX=/usr/lib/x86_64-linux-gnu/cmake \
  bash /src/scripts/gpu-check.sh --cpu /src/build-gpu-check
echo "rehearse: summary and logs in $rootfs/src/out"
