#!/usr/bin/env bash
# Builds the image the tests (and the demo) run agents from, without a registry:
# debootstrap a minimal Debian with git, then `docker import`. Cached by tag: the
# tag is a hash of this script, so it is rebuilt only when the recipe changes.
# Where a registry is reachable, test/image/Dockerfile builds an equivalent image.
# Prints the tag on stdout's last line.
set -euo pipefail

packages="git,ca-certificates,python3,procps,tmux"
suite="bookworm"
recipe_hash=$(sha256sum "$0" | cut -c1-12)
tag="gitiso-test-base:${suite}-${recipe_hash}"

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "test image: $tag (cached)" >&2
  echo "$tag"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null || {
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  else
    echo "error: debootstrap is missing; install it, or build test/image/Dockerfile as $tag" >&2
    exit 1
  fi
fi

# The Debian mirror this machine's apt already uses (so none is named here).
mirror=$(grep -h -m1 -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}')
if [ -z "$mirror" ]; then
  mirror=$(grep -h -m1 -E '^deb ' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
fi
[ -n "$mirror" ] || { echo "error: no Debian mirror found in apt's sources" >&2; exit 1; }

root=$(mktemp -d /tmp/gitiso-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "building test image $tag with debootstrap (about a minute)…" >&2
debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >/tmp/gitiso-debootstrap.log 2>&1 || {
  echo "error: debootstrap failed; see /tmp/gitiso-debootstrap.log" >&2; tail -5 /tmp/gitiso-debootstrap.log >&2; exit 1; }
# Drop caches and docs: they are most of a minbase tree and no test needs them.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
tar -C "$root" -c . | docker import \
  --change 'CMD ["/bin/bash"]' \
  --change 'ENV LANG=C.UTF-8' \
  - "$tag" >/dev/null
echo "test image: $tag (built)" >&2
echo "$tag"
