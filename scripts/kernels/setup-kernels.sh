#!/usr/bin/env bash
# Prepares this Debian 12 host (as root) for `npm run test:kernels`: the
# packages that boot Debian's kernels in qemu, and apt sources for the suites
# whose kernels the matrix fetches. Idempotent and quiet on stdout (the matrix
# may print JSON there): everything goes to stderr.
set -euo pipefail
exec 3>&1 1>&2

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-kernels.sh must run as root (apt, virtiofsd, and the guest mounts the host root)" >&2
  exit 1
fi

# qemu (with /usr/lib/qemu/virtiofsd on Debian 12), a static busybox for the
# initramfs, cpio to pack it, kmod's depmod for the extracted modules, xz/zstd
# for compressed modules; curl and iproute2 run inside the guest (from this root).
PACKAGES=(qemu-system-x86 busybox-static cpio kmod xz-utils zstd curl iproute2 python3)

# Same mirror as the host's own Debian sources (deb822 or one-line format).
mirror=$(grep -rhs -A3 -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
  | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}
list=/etc/apt/sources.list.d/waggle-kernels.list
want="# waggle kernel matrix (scripts/kernels): kernel images only, see waggle-kernels in preferences.d
deb ${mirror%/} bookworm-backports main
deb ${mirror%/} bullseye main
deb ${mirror%/} trixie main"
# Never upgrade this host from another release: pinned below everything (backports is already NotAutomatic).
prefs=/etc/apt/preferences.d/waggle-kernels
want_prefs="Package: *
Pin: release n=trixie
Pin-Priority: 1

Package: *
Pin: release n=bullseye
Pin-Priority: 1"
changed=0
if [ "$(cat "$prefs" 2>/dev/null)" != "$want_prefs" ]; then printf '%s\n' "$want_prefs" > "$prefs"; changed=1; fi
if [ "$(cat "$list" 2>/dev/null)" != "$want" ]; then printf '%s\n' "$want" > "$list"; changed=1; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "$changed" = 1 ] || [ ${#missing[@]} -gt 0 ] || ! apt-cache show linux-image-cloud-amd64/bullseye >/dev/null 2>&1; then
  echo "setup-kernels: apt-get update (sources: $list)"
  apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-kernels: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
