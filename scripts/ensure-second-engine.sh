#!/usr/bin/env bash
# Makes sure the tests' second Docker engine answers, and the SSH engine in
# front of it (issue 15: several engines, remote ones over SSH). Idempotent:
# when all answers it only checks. Needs root on Linux and the main engine
# (scripts/ensure-docker.sh), whose test images it copies over.
#
#  - a second dockerd: socket /run/gitiso-engine2/docker.sock, data root
#    /var/lib/gitiso-engine2, exec root /run/gitiso-engine2/exec, its own
#    bridge gitiso-br2 (10.212.0.1/24), its agents' network on 10.213.0.0/24, no
#    iptables of its own: both dockerds would manage the same chains (DOCKER,
#    DOCKER-ISOLATION-…), and agents here need no outside network (objects
#    come through the engine API). Its network 'gitiso' for agents is made here, on bridge
#    gitiso1. Log: /tmp/gitiso-engine2.log.
#  - an sshd on 127.0.0.1:22722 (a container on the MAIN engine, host
#    network, from the server image) whose /var/run/docker.sock is the second
#    engine's socket; root's login by a key made here, in /run/gitiso-engine2/ssh.
#
# stdout: only NAME=value lines for the tests (`export $(bash scripts/ensure-second-engine.sh)`);
# progress goes to stderr.
set -euo pipefail

run_dir=/run/gitiso-engine2
socket=$run_dir/docker.sock
pidfile=$run_dir/docker.pid
data_root=/var/lib/gitiso-engine2
bridge=gitiso-br2
bridge_cidr=10.212.0.1/24
agent_bridge=gitiso1
address_pool=10.213.0.0/16
engine2_addresses=10.212.0.0/15 # the bridge's and the pool's
ssh_dir=$run_dir/ssh
ssh_port=22722
ssh_container=gitiso-engine2-ssh
log=/tmp/gitiso-engine2.log
here=$(dirname "$0")

engine2() { docker -H "unix://$socket" "$@"; }
engine2_answers() { engine2 version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if [ "$(id -u)" != 0 ] || [ "$(uname -s)" != Linux ]; then
  echo "error: the second engine needs root on Linux (it starts a dockerd)" >&2
  exit 1
fi
docker version >/dev/null 2>&1 || { echo "error: the main engine does not answer: run scripts/ensure-docker.sh first" >&2; exit 1; }

mkdir -p "$run_dir" "$data_root"
chmod 0700 "$run_dir"
# One set-up at a time: concurrent runs would start two dockerds on one socket.
exec 9>"$run_dir.lock"
flock 9

start_dockerd() {
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    if ip route show | grep -q "^${bridge_cidr%.*}\."; then
      echo "error: ${bridge_cidr%.*}.0/24 is routed already; change bridge_cidr in $0" >&2
      exit 1
    fi
    ip link add "$bridge" type bridge
    ip addr add "$bridge_cidr" dev "$bridge"
    ip link set "$bridge" up
  fi
  # Its own (empty) config: a daemon.json of the main engine's must not apply here.
  echo '{}' >"$run_dir/daemon.json"
  echo "starting the second dockerd (log: $log)…" >&2
  # setsid and descriptors 3-9 closed, as in ensure-docker.sh: it outlives this
  # script and must not hold the set-up's or the tests' locks.
  # No --default-address-pool: a dockerd started with one deletes the interface
  # docker0 when it clears its stale default network, whatever its own bridge
  # is, and docker0 is the MAIN engine's. Its agents' network gets its subnet below.
  setsid -f /usr/sbin/dockerd --config-file "$run_dir/daemon.json" \
    --host "unix://$socket" --pidfile "$pidfile" \
    --data-root "$data_root" --exec-root "$run_dir/exec" \
    --containerd-namespace gitiso-engine2 --containerd-plugins-namespace gitiso-engine2-plugins \
    --cgroup-parent /gitiso-engine2 \
    --bridge "$bridge" \
    --iptables=false --ip-masq=false \
    </dev/null >>"$log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
  for _ in $(seq 1 120); do
    engine2_answers && return 0
    sleep 0.25
  done
  echo "error: the second dockerd did not answer within 30 s; see $log:" >&2
  tail -20 "$log" >&2 || true
  exit 1
}

copy_images() {
  local missing=() image
  engine2 image inspect "$@" >/dev/null 2>&1 && return 0
  for image in "$@"; do
    engine2 image inspect "$image" >/dev/null 2>&1 || missing+=("$image")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "copying ${missing[*]} to the second engine…" >&2
    docker save "${missing[@]}" | engine2 load -q >/dev/null
    # Test images of earlier recipes go (those in use stay).
    local keep=()
    for image in "$@"; do keep+=(-e "$image"); done
    engine2 images --format '{{.Repository}}:{{.Tag}}' | grep -E '^gitiso-test-(base|server):' | grep -vxF "${keep[@]}" \
      | xargs -r docker -H "unix://$socket" rmi >/dev/null 2>&1 || true
  fi
}

# The key pair, the server's host key, and what a client needs: a known_hosts
# line and a config snippet. Made again (with the server) when any is missing.
# gitiso's own network, made here on a subnet the DOCKER-USER rules below
# name (this dockerd has no address pool of its own: see start_dockerd), with
# a bridge interface of its own (gitiso names bridges after the engine's id).
ensure_agent_network() {
  local name
  name=$(engine2 network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' gitiso 2>/dev/null) || {
    engine2 network create --driver bridge --label gitiso.network=agents --subnet "${address_pool%.0.0/16}.0.0/24" \
      -o com.docker.network.bridge.enable_icc=false -o "com.docker.network.bridge.name=$agent_bridge" gitiso >/dev/null
    return 0
  }
  if [ "$name" != "$agent_bridge" ]; then
    echo "error: the second engine's network 'gitiso' uses bridge '$name', not $agent_bridge; remove its containers, then" \
      "'ip link del $name' only if the main engine has no such bridge, and 'docker -H unix://$socket network rm gitiso'" >&2
    exit 1
  fi
}

# Nothing is forwarded to or from the second engine's containers (the host
# reaches them directly): without this, the main engine's rules
# (`-i BRIDGE ! -o BRIDGE -j ACCEPT` for its agents' bridge) let its agents reach these. In
# DOCKER-USER, which the main dockerd keeps when it restarts.
ensure_no_forwarding() {
  local chain=DOCKER-USER side
  iptables -n -L "$chain" >/dev/null 2>&1 || chain=FORWARD
  for side in -s -d; do
    iptables -C "$chain" "$side" "$engine2_addresses" -j DROP 2>/dev/null || iptables -I "$chain" "$side" "$engine2_addresses" -j DROP
  done
}

ssh_files_exist() {
  for file in id_ed25519 id_ed25519.pub forwarding_only_ed25519 forced_command_ed25519 host_ed25519 host_ed25519.pub authorized_keys known_hosts config; do
    [ -f "$ssh_dir/$file" ] || return 1
  done
}

make_ssh_files() {
  rm -rf "$ssh_dir"
  mkdir -m 0700 "$ssh_dir"
  ssh-keygen -q -t ed25519 -N '' -C gitiso-engine2-client -f "$ssh_dir/id_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C gitiso-engine2-host -f "$ssh_dir/host_ed25519"
  # Two more keys, as some accounts are set up: one that may forward but gets no terminal
  # (`restrict,port-forwarding`), one whose sessions run a forced command that ends at once.
  ssh-keygen -q -t ed25519 -N '' -C gitiso-engine2-forwarding-only -f "$ssh_dir/forwarding_only_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C gitiso-engine2-forced-command -f "$ssh_dir/forced_command_ed25519"
  { cat "$ssh_dir/id_ed25519.pub"
    echo "restrict,port-forwarding $(cat "$ssh_dir/forwarding_only_ed25519.pub")"
    echo "command=\"exit 3\" $(cat "$ssh_dir/forced_command_ed25519.pub")"; } >"$ssh_dir/authorized_keys"
  echo "[127.0.0.1]:$ssh_port $(cut -d' ' -f1-2 "$ssh_dir/host_ed25519.pub")" >"$ssh_dir/known_hosts"
  cat >"$ssh_dir/config" <<EOF
Host gitiso-engine2
  HostName 127.0.0.1
  Port $ssh_port
  User root
  IdentityFile $ssh_dir/id_ed25519
  UserKnownHostsFile $ssh_dir/known_hosts
  StrictHostKeyChecking yes
  IdentitiesOnly yes
  BatchMode yes
Host gitiso-engine2-forwarding-only
  HostName 127.0.0.1
  Port $ssh_port
  User root
  IdentityFile $ssh_dir/forwarding_only_ed25519
  UserKnownHostsFile $ssh_dir/known_hosts
  StrictHostKeyChecking yes
  IdentitiesOnly yes
  BatchMode yes
Host gitiso-engine2-forced-command
  HostName 127.0.0.1
  Port $ssh_port
  User root
  IdentityFile $ssh_dir/forced_command_ed25519
  UserKnownHostsFile $ssh_dir/known_hosts
  StrictHostKeyChecking yes
  IdentitiesOnly yes
  BatchMode yes
EOF
}

ssh_answers() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ssh_port && head -c 8 <&3" 2>/dev/null | grep -q '^SSH-2.0-'
}

# sshd keys only, root by the one key, on 127.0.0.1 only; `-f /dev/null`: no
# Debian defaults (PAM, passwords). The second engine's run folder is mounted
# (not its socket alone: a restarted dockerd makes a new socket file) and its
# socket linked where a client's `-L …:/var/run/docker.sock` looks.
start_sshd() {
  local image=$1
  docker rm -f "$ssh_container" >/dev/null 2>&1 || true
  command -v ssh >/dev/null 2>&1 || {
    echo "installing openssh-client…" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-client >/dev/null || {
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-client >/dev/null; }
  }
  echo "starting sshd for the second engine on 127.0.0.1:$ssh_port…" >&2
  # --restart: it comes back when a test restarts the main dockerd.
  docker run -d --name "$ssh_container" --restart unless-stopped --init --network host \
    -v "$run_dir:/engine2:ro" "$image" sh -c "set -e
mkdir -p /run/sshd
ln -sf /engine2/docker.sock /var/run/docker.sock
exec /usr/sbin/sshd -D -e -f /dev/null -h /engine2/ssh/host_ed25519 -p $ssh_port -o ListenAddress=127.0.0.1 \
  -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
  -o AuthorizedKeysFile=/engine2/ssh/authorized_keys -o StrictModes=no -o UsePAM=no \
  -o AllowStreamLocalForwarding=yes -o AllowTcpForwarding=yes" >/dev/null
  for _ in $(seq 1 100); do
    ssh_answers && return 0
    sleep 0.1
  done
  echo "error: sshd did not answer on 127.0.0.1:$ssh_port:" >&2
  docker logs --tail 20 "$ssh_container" >&2 || true
  exit 1
}

image=${GITISO_TEST_IMAGE:-$(bash "$here/build-test-image.sh" | tail -1)}
server_image=${GITISO_TEST_SERVER_IMAGE:-$(bash "$here/build-server-image.sh" | tail -1)}

version=$(engine2 version --format '{{.Server.Version}}' 2>/dev/null) || { start_dockerd; version=$(engine2 version --format '{{.Server.Version}}'); }
copy_images "$image" "$server_image"
ensure_agent_network
ensure_no_forwarding
if ! ssh_files_exist; then
  make_ssh_files
  start_sshd "$server_image"
elif [ "$(docker inspect -f '{{.State.Running}}' "$ssh_container" 2>/dev/null)" != true ] || ! ssh_answers; then
  start_sshd "$server_image"
fi
echo "second engine: $version at unix://$socket, over ssh at ssh://root@127.0.0.1:$ssh_port" >&2

echo "GITISO_TEST_ENGINE2=unix://$socket"
echo "GITISO_TEST_SSH_ENGINE=ssh://root@127.0.0.1:$ssh_port"
echo "GITISO_TEST_SSH_CONFIG=$ssh_dir/config"
echo "GITISO_TEST_SSH_KEY=$ssh_dir/id_ed25519"
echo "GITISO_TEST_SSH_KNOWN_HOSTS=$ssh_dir/known_hosts"
