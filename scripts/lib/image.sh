# Building and checking Audit Portal's container image where no image registry is reachable:
# both base images the Dockerfile names in build arguments are made here, with debootstrap from
# Debian's package mirror and `docker import`, then the unchanged Dockerfile is built against them
# with no network at all. Sourced after common.sh.

IMAGE_RUNTIME_BASE=audit-base/debian:bookworm-slim
IMAGE_BUILDER_BASE=audit-base/rust:bookworm

# The first Debian mirror apt uses here, so debootstrap fetches from where apt does.
debian_mirror() {
  local uri
  uri=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -v -- '-security' | head -n 1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*$//')
  echo "${uri:-http://deb.debian.org/debian}"
}

# debootstrap_tar NAME PACKAGES: a minimal Debian 12 root with PACKAGES, as CACHE/NAME.tar. The
# tarball is kept, so only the first run on a machine pays for the download.
debootstrap_tar() {
  local cache=$1 name=$2 packages=$3 root
  [ -s "$cache/$name.tar" ] && return 0
  mkdir -p "$cache/debs"
  root=$(mktemp -d "$cache/$name.XXXXXX")
  say "debootstrap: a Debian 12 root with $packages (once; kept in $cache)"
  if ! debootstrap --variant=minbase --include="$packages" --cache-dir="$cache/debs" \
    bookworm "$root" "$(debian_mirror)" >"$cache/$name.log" 2>&1; then
    tail -n 20 "$cache/$name.log" >&2
    rm -rf "$root"
    return 1
  fi
  # What Debian's own slim images leave out: package lists, caches, documentation.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/*
  tar -C "$root" --numeric-owner -cf "$cache/$name.tar.part" .
  mv "$cache/$name.tar.part" "$cache/$name.tar"
  rm -rf "$root"
}

# prepare_image_roots CACHE: both Debian roots as tarballs (needs no Docker engine, so it can run
# while other work does).
prepare_image_roots() {
  local cache=$1
  debootstrap_tar "$cache" runtime ca-certificates,git
  debootstrap_tar "$cache" builder ca-certificates,gcc,libc6-dev
}

# make_image_bases SOCK CACHE: imports the runtime base (CA certificates and git, nothing else)
# and the builder base (gcc, this machine's Rust toolchain, and the crates of Cargo.lock vendored
# with an offline cargo configuration, which stands in for a registry the build cannot reach).
make_image_bases() {
  local sock=$1 cache=$2 docker="docker -H unix://$1" sysroot vendor
  prepare_image_roots "$cache"
  say "importing the runtime base image $IMAGE_RUNTIME_BASE"
  # The settings Debian's own images carry: a PATH, a shell to start.
  $docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$cache/runtime.tar" "$IMAGE_RUNTIME_BASE" >/dev/null

  sysroot=$(rustc --print sysroot)
  vendor=$(mktemp -d)
  chmod 755 "$vendor"
  cargo vendor --locked --quiet "$vendor/vendor" >/dev/null
  cat >"$vendor/config.toml" <<'TOML'
[source.crates-io]
replace-with = "vendored"

[source.vendored]
directory = "/usr/local/cargo/vendor"

[net]
offline = true
TOML
  say "importing the builder base image $IMAGE_BUILDER_BASE: the Debian root, the Rust toolchain ($(rustc --version)) and the vendored crates"
  # One tar stream straight into the engine: the root is never unpacked on disk first, which
  # would cost another 1.5 GB at the run's fullest moment.
  builder_base_tar "$cache/builder.tar" "$sysroot" "$vendor" | $docker import \
    --change 'ENV PATH=/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' \
    - "$IMAGE_BUILDER_BASE" >/dev/null
  rm -rf "$vendor"
}

# builder_base_tar ROOT_TAR SYSROOT CARGO_DIR: writes to stdout the Debian root of ROOT_TAR with
# the toolchain at SYSROOT as /usr/local/rust (without its documentation) and CARGO_DIR (the
# vendored crates and their configuration) as /usr/local/cargo, every file owned by root.
builder_base_tar() {
  python3 - "$@" <<'PY'
import sys, tarfile

root_tar, sysroot, cargo_dir = sys.argv[1:]

def owned_by_root(member):
    member.uid = member.gid = 0
    member.uname = member.gname = "root"
    return member

def without_docs(member):
    if member.name == "usr/local/rust/share/doc" or member.name.startswith("usr/local/rust/share/doc/"):
        return None
    return owned_by_root(member)

with tarfile.open(fileobj=sys.stdout.buffer, mode="w|") as out:
    with tarfile.open(root_tar, mode="r:") as root:
        for member in root:
            out.addfile(member, root.extractfile(member) if member.isreg() else None)
    out.add(sysroot, arcname="usr/local/rust", filter=without_docs)
    out.add(cargo_dir, arcname="usr/local/cargo", filter=owned_by_root)
PY
}

# build_image SOCK TAG: the repository's Dockerfile, unchanged, built against the local bases with
# no network (cargo builds from the vendored crates; the runtime base already has what it needs).
build_image() {
  local sock=$1 tag=$2 revision
  revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
  # The image-check profile is the release profile without optimisation: the same Dockerfile,
  # build and binary, in about half the time (AUDIT_IMAGE_PROFILE=release for the real thing).
  local profile=${AUDIT_IMAGE_PROFILE:-image-check}
  say "docker build $tag (cargo profile $profile inside the builder; a few minutes)"
  docker -H "unix://$sock" build --network none \
    --build-arg CARGO_PROFILE="$profile" \
    --build-arg RUST_IMAGE="$IMAGE_BUILDER_BASE" \
    --build-arg RUNTIME_IMAGE="$IMAGE_RUNTIME_BASE" \
    --build-arg REVISION="$revision" \
    --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -t "$tag" . >"$IMAGE_BUILD_LOG" 2>&1 || {
      tail -n 40 "$IMAGE_BUILD_LOG" >&2
      echo "docker build failed (the whole log: $IMAGE_BUILD_LOG)" >&2
      return 1
    }
}

# check_image SOCK TAG PG_SOCK_DIR PG_PORT: runs the image as a self-hoster would (the default
# command, secrets from files, a read-only root with /data its only writable path) on the private
# engine with no network, reaching Postgres through its mounted unix socket, and checks what the
# image promises. Fails with the container's log when a promise does not hold.
check_image() {
  local sock=$1 tag=$2 pg_sock=$3 pg_port=$4 docker="docker -H unix://$1"
  local name=audit-image-check secrets status revision
  secrets=$(mktemp -d)
  chmod 755 "$secrets"
  psql -q -h 127.0.0.1 -p "$pg_port" -U app -d postgres -c 'CREATE DATABASE image_check' >/dev/null
  printf 'postgres://app@localhost:%s/image_check?host=/run/postgresql' "$pg_port" >"$secrets/audit_database_url"
  printf 'not-a-real-client-secret' >"$secrets/audit_oidc_client_secret"
  chmod 644 "$secrets"/*
  say "running $tag with --network none and a read-only root"
  local failed=""
  fail() { failed="$failed\n  - $1"; }
  $docker run -d --name "$name" --network none --read-only \
    --health-interval=1s --health-start-period=30s \
    -v "$pg_sock:/run/postgresql" \
    -v "$secrets:/run/secrets:ro" \
    -v audit-image-check-data:/data \
    -e DATABASE_URL_FILE=/run/secrets/audit_database_url \
    -e AUDIT_PUBLIC_URL=https://audit.quietly.online \
    -e AUDIT_OIDC_ISSUER=https://auth.quietly.online \
    -e AUDIT_OIDC_CLIENT_ID=audit-portal \
    -e AUDIT_OIDC_CLIENT_SECRET_FILE=/run/secrets/audit_oidc_client_secret \
    -e AUDIT_ENGINES=master=tcp://docker-proxy-master:2375 \
    "$tag" >/dev/null || fail "docker run failed"
  for _ in $(seq 1 60); do
    status=$($docker inspect -f '{{.State.Health.Status}}' "$name" 2>/dev/null || echo gone)
    [ "$status" = healthy ] && break
    [ "$status" = gone ] && break
    sleep 1
  done
  [ "$status" = healthy ] || fail "the HEALTHCHECK never passed (last status: $status)"
  $docker exec "$name" audit-portal healthcheck || fail "docker exec … audit-portal healthcheck failed"
  [ "$($docker exec "$name" id -u)" = 10001 ] || fail "the portal does not run as uid 10001"
  $docker exec "$name" sh -c 'touch /data/.written && rm /data/.written' \
    || fail "/data is not writable"
  if $docker exec "$name" sh -c 'touch /usr/local/bin/x' 2>/dev/null; then
    fail "the root file system is writable"
  fi
  revision=$($docker inspect -f '{{index .Config.Labels "org.opencontainers.image.revision"}}' "$tag")
  [ -n "$revision" ] || fail "the org.opencontainers.image.revision label is empty"
  $docker exec "$name" audit-portal --version | grep -q -- "$revision" \
    || fail "--version does not name the commit $revision"
  if $docker run --rm --network none --entrypoint sh "$tag" -c \
    'command -v cargo || command -v rustc || command -v gcc || command -v curl || command -v wget'; then
    fail "the runtime image carries build tools or an HTTP client"
  fi
  if $docker logs "$name" 2>&1 | grep -q 'not-a-real-client-secret'; then
    fail "the client secret appears in the log"
  fi
  if [ -n "$failed" ]; then
    $docker logs "$name" 2>&1 | tail -n 40 >&2
  fi
  $docker rm -f "$name" >/dev/null
  $docker volume rm audit-image-check-data >/dev/null
  rm -rf "$secrets"
  if [ -n "$failed" ]; then
    printf "the image check failed:$failed\n" >&2
    return 1
  fi
  say "the image runs: healthy, uid 10001, read-only root, /data writable, commit $revision"
}

# check_compose_files DEPLOY_DIR BINARY: the compose files in DEPLOY_DIR validate with
# docker-compose (one host, two hosts, and the second host's own file), and the portal accepts the
# environment compose gives it (`check-config` with each /run/secrets path mapped to a file here).
check_compose_files() {
  local deploy=$1 binary=$2 dir
  dir=$(mktemp -d)
  cp -r "$deploy/." "$dir/"
  cp "$dir/.env.example" "$dir/.env"
  mkdir -p "$dir/secrets/lady_tls" "$dir/lady/secrets"
  printf 'not-a-real-password' >"$dir/secrets/audit_db_password"
  printf 'postgres://audit:not-a-real-password@postgres:5432/audit' >"$dir/secrets/audit_database_url"
  printf 'not-a-real-client-secret' >"$dir/secrets/audit_oidc_client_secret"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca \
    -keyout "$dir/secrets/lady_tls/key.pem" -out "$dir/secrets/lady_tls/cert.pem" 2>/dev/null
  cp "$dir/secrets/lady_tls/cert.pem" "$dir/secrets/lady_tls/ca.pem"
  touch "$dir/lady/secrets/ca.pem" "$dir/lady/secrets/server-cert.pem" "$dir/lady/secrets/server-key.pem"
  (cd "$dir" && docker-compose config -q) || { echo "deploy/compose.yml with compose.second-host.yml does not validate" >&2; return 1; }
  (cd "$dir" && COMPOSE_FILE=compose.yml docker-compose config -q) || { echo "deploy/compose.yml alone does not validate" >&2; return 1; }
  (cd "$dir/lady" && docker-compose config -q) || { echo "deploy/lady/compose.yml does not validate" >&2; return 1; }
  (cd "$dir" && docker-compose config) >"$dir/effective.yml"
  python3 - "$dir/effective.yml" "$dir/secrets" >"$dir/portal.env" <<'PY'
import sys, yaml
effective, secrets = sys.argv[1:]
environment = yaml.safe_load(open(effective))["services"]["audit-portal"]["environment"]
for key, value in environment.items():
    value = "" if value is None else str(value)
    print(f"{key}={value.replace('/run/secrets', secrets)}")
PY
  local portal_env
  mapfile -t portal_env <"$dir/portal.env"
  if ! env -i PATH="$PATH" "${portal_env[@]}" "$binary" check-config >"$dir/check-config.out" 2>&1; then
    cat "$dir/check-config.out" >&2
    echo "the portal refuses the environment deploy/compose.yml gives it" >&2
    return 1
  fi
  grep -q 'lady' "$dir/check-config.out" || { echo "the second host's engine is missing from the effective configuration" >&2; return 1; }
  rm -rf "$dir"
}
