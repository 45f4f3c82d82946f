#!/usr/bin/env bash
# Builds the image of the tests' authenticated git servers
# (test/support/httpGitServer.ts, sshGitServer.ts): the test image
# (scripts/build-test-image.sh) plus apache2 and openssh-server, installed with
# apt in one container from it and committed: a layer of some seconds, not a
# second debootstrap, and the test image's tag stays as it was. Cached by tag:
# the test image's tag plus a hash of this script. Prints the tag on stdout's
# last line.
set -euo pipefail

packages="apache2 openssh-server"
here=$(dirname "$0")
base=$(bash "$here/build-test-image.sh" | tail -1)
recipe_hash=$(sha256sum "$0" | cut -c1-12)
tag="gitiso-test-server:${base#gitiso-test-base:}-${recipe_hash}"

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "server image: $tag (cached)" >&2
  echo "$tag"
  exit 0
fi

echo "building server image $tag (apt in a container from $base)…" >&2
# policy-rc.d: the packages' scripts must not start their services in the build.
# The host keys openssh-server makes go: each server makes its own as it starts.
install="printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null \
  && rm -rf /usr/sbin/policy-rc.d /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /etc/ssh/ssh_host_*"
builder="gitiso-server-image-build-$$"
trap 'docker rm -f "$builder" >/dev/null 2>&1 || true' EXIT
# The host's network: the container reaches the Debian mirror as this machine does.
docker run --name "$builder" --network host "$base" sh -c "$install" >/tmp/gitiso-server-image.log 2>&1 || {
  echo "error: installing $packages failed; see /tmp/gitiso-server-image.log" >&2; tail -5 /tmp/gitiso-server-image.log >&2; exit 1; }
docker commit --change 'CMD ["/bin/bash"]' "$builder" "$tag" >/dev/null
echo "server image: $tag (built)" >&2
echo "$tag"
