#!/usr/bin/env bash
# Fetches the guest kernels of `epoll-oracle kernels` from Debian's suites with apt-get
# download, through an apt configuration of our own under the cache directory (the
# machine's /etc/apt is read for its mirror, never changed). For each kernel it keeps only
# the image (vmlinux for qemu's PVH entry, vmlinuz when that cannot be extracted), its
# config and the Debian changelog. The versions are apt's newest, never written here.
#
# Usage: scripts/kernels-fetch.sh [CACHE_DIR] [LABEL...]
#   CACHE_DIR  default: $EPOLL_ORACLE_CACHE, else ~/.cache/epoll-oracle
#   LABEL      5.10 6.1 6.1-rt 6.12 7.2 (default: all)
# Prints one line per kernel: LABEL DIR. A kernel already in the cache is not fetched again
# (delete its directory, or the cache's apt lists, to refresh).
set -euo pipefail

cache="${1:-${EPOLL_ORACLE_CACHE:-$HOME/.cache/epoll-oracle}}"
shift || true
labels=("$@")
[ ${#labels[@]} -gt 0 ] || labels=(5.10 6.1 6.1-rt 6.12 7.2)

# LABEL -> the apt name pattern of the package holding the image (newest match wins).
declare -A image_pkg=(
  [5.10]='^linux-image-5\.10\.0-[0-9]+-cloud-amd64$'            # signed: -unsigned is not served
  [6.1]='^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$'
  [6.1-rt]='^linux-image-6\.1\.0-[0-9]+-rt-amd64-unsigned$'
  [6.12]='^linux-image-6\.12\.[0-9]+\+deb1[23]-cloud-amd64-unsigned$'
  [7.2]='^linux-binary-unsigned-7\.2\.[0-9]+\+deb1[0-9]-cloud-amd64$'  # the linux-image- one is a meta package
)

apt_dir="$cache/apt"
images="$cache/images"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$images"

# The machine's Debian mirrors (deb822 or one-line sources), for our own sources list.
mirror() {  # $1: debian or debian-security
  local uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -oE "https?://[^ ]+/$1/?( |$)" | head -1 | tr -d ' ')
  echo "${uri:-http://deb.debian.org/$1}" | sed 's:/*$::'
}
debian=$(mirror debian)
security=$(mirror debian-security)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$apt_dir/sources.list" <<EOF
deb [signed-by=$keyring] $security bullseye-security main
deb [signed-by=$keyring] $debian bookworm main
deb [signed-by=$keyring] $debian bookworm-updates main
deb [signed-by=$keyring] $security bookworm-security main
deb [signed-by=$keyring] $debian trixie main
deb [signed-by=$keyring] $debian sid main
EOF

apt_opts=(
  -o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::State::status=/var/lib/dpkg/status"  # read only: apt-get download installs nothing
  -o "APT::Architecture=amd64" -o "APT::Architectures=amd64" -o "Acquire::Languages=none"
  -o "APT::Sandbox::User=root"  # downloads land in our directory, not one owned by _apt
)

lists_fresh=0
update_lists() {
  [ $lists_fresh -eq 0 ] || return 0
  echo "kernels-fetch: apt-get update (suites bullseye-security, bookworm, trixie, sid)" >&2
  apt-get "${apt_opts[@]}" update -qq >&2
  lists_fresh=1
}

# The first ELF image inside a compressed bzImage: qemu boots an ELF vmlinux through its
# PVH entry without decompressing under emulation (the kernel's extract-vmlinux does the same).
extract_elf() {  # $1 vmlinuz, $2 out
  local magic tool off
  for pair in '\x02\x21\x4c\x18:lz4 -dc' '\x28\xb5\x2f\xfd:zstd -dcq' '\xfd\x37\x7a\x58\x5a:xz -dcq' '\x1f\x8b\x08:gzip -dcq'; do
    magic="${pair%%:*}"
    tool="${pair#*:}"
    for off in $(LC_ALL=C grep -obUaF "$(printf "$magic")" "$1" 2>/dev/null | cut -d: -f1 | head -4); do
      tail -c +$((off + 1)) "$1" | $tool >"$2.tmp" 2>/dev/null || true
      if [ "$(head -c 4 "$2.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
        mv "$2.tmp" "$2"
        return 0
      fi
    done
  done
  rm -f "$2.tmp"
  return 1
}

for label in "${labels[@]}"; do
  pattern="${image_pkg[$label]:-}"
  [ -n "$pattern" ] || { echo "kernels-fetch: unknown kernel '$label' (known: ${!image_pkg[*]})" >&2; exit 2; }
  dir="$images/$label"
  if [ -f "$dir/package" ] && { [ -f "$dir/vmlinux" ] || [ -f "$dir/vmlinuz" ]; }; then
    echo "$label $dir"
    continue
  fi
  update_lists
  pkg=$(apt-cache "${apt_opts[@]}" pkgnames | grep -E "$pattern" | sort -V | tail -1 || true)
  [ -n "$pkg" ] || { echo "kernels-fetch: no package matches $pattern" >&2; exit 1; }
  work=$(mktemp -d "$cache/fetch.XXXXXX")
  (cd "$work" && apt-get "${apt_opts[@]}" download -qq "$pkg" >&2)
  deb=$(ls "$work/${pkg}_"*.deb)
  mkdir -p "$work/x"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/x" --wildcards './boot/*' './usr/lib/modules/*/vmlinuz*' \
    './usr/lib/modules/*/config' './usr/share/doc/*/changelog*.gz' 2>/dev/null || true
  vmlinuz=$(find "$work/x" -name 'vmlinuz*' -type f | head -1)
  [ -n "$vmlinuz" ] || { echo "kernels-fetch: $pkg has no vmlinuz" >&2; exit 1; }
  if [ "${pkg#linux-binary-unsigned-}" != "$pkg" ]; then
    # Sid splits the image: config and changelog are in linux-base-ABI of the same version.
    base="linux-base-${pkg#linux-binary-unsigned-}"
    (cd "$work" && apt-get "${apt_opts[@]}" download -qq "$base" >&2)
    dpkg-deb --fsys-tarfile "$work/${base}_"*.deb | tar -x -C "$work/x" --wildcards './usr/lib/modules/*/config' \
      './usr/share/doc/*/changelog*.gz' 2>/dev/null || true
  fi
  config=$(find "$work/x" \( -name 'config-*' -o -name config \) -type f | head -1)
  changelog=$(find "$work/x" -name 'changelog*.gz' -type f | head -1)
  rm -rf "$dir.new" && mkdir -p "$dir.new"
  extract_elf "$vmlinuz" "$dir.new/vmlinux" || cp "$vmlinuz" "$dir.new/vmlinuz"
  [ -z "$config" ] || cp "$config" "$dir.new/config"
  [ -z "$changelog" ] || cp "$changelog" "$dir.new/changelog.Debian.gz"
  dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >"$dir.new/package"
  rm -rf "$work" "$dir" && mv "$dir.new" "$dir"
  echo "kernels-fetch: $label: $(cat "$dir/package")" >&2
  echo "$label $dir"
done
