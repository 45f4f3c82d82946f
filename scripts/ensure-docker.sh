#!/usr/bin/env bash
# Makes sure a Docker engine answers. Where none does and we are root on Debian,
# installs Debian's docker.io and starts dockerd in the background; elsewhere it
# fails with a message that says what to do. Used by the test and run commands.
set -euo pipefail

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_answers; then
  echo "docker engine: $(docker version --format '{{.Server.Version}}') at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ]; then
  echo "error: no Docker engine answers at DOCKER_HOST=$DOCKER_HOST; start it or unset DOCKER_HOST" >&2
  exit 1
fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  echo "error: no Docker engine answers at /var/run/docker.sock; start Docker (or set DOCKER_HOST) and run again" >&2
  exit 1
fi

if [ ! -x /usr/sbin/dockerd ] || ! command -v debootstrap >/dev/null 2>&1; then
  echo "installing Debian's docker.io and debootstrap…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io debootstrap tini iptables ca-certificates >/dev/null
fi

echo "starting dockerd in the background (log: /tmp/gitiso-dockerd.log)…"
# In a session of its own (setsid): whoever ends this script's process group
# (a job control, a runner's timeout) must not take the engine with it.
# Descriptors 3-9 closed: run under `flock` (as the tests' heavy lock), dockerd
# would inherit the lock and hold it for as long as it runs.
setsid -f /usr/sbin/dockerd </dev/null >/tmp/gitiso-dockerd.log 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
for _ in $(seq 1 60); do
  if /usr/bin/docker version >/dev/null 2>&1 || docker version >/dev/null 2>&1; then
    echo "docker engine: $(docker version --format '{{.Server.Version}}') started"
    exit 0
  fi
  sleep 0.5
done
echo "error: dockerd did not answer within 30 s; see /tmp/gitiso-dockerd.log:" >&2
tail -20 /tmp/gitiso-dockerd.log >&2 || true
exit 1
