#!/usr/bin/env bash
# Creates a small fleet on a private Docker engine that shows every finding the audit knows, plus
# clean services: used by the demo and the browser suite. Usage: fleet.sh SOCKET PROJECT [KIND]
# KIND "findings" (default) is that fleet; "steady" is a few well-kept services for a second engine.
# Every container runs with --network none: no bridge network exists on the private engine.
set -euo pipefail
SOCK=$1
P=${2:-demo}
KIND=${3:-findings}
D="docker -H unix://$SOCK"
IMG=audit-test/busybox:1

# run NAME ARGS...: create and start; create NAME ARGS...: create only.
run() { launch run -d "$@"; }
create() { launch create "$@"; }
launch() {
  local verb=("$1"); shift
  [ "${verb[0]}" = run ] && { verb+=("$1"); shift; }
  local name=$1; shift
  $D rm -f "$P-$name" >/dev/null 2>&1 || true
  $D "${verb[@]}" --network none --name "$P-$name" \
    --label "com.docker.compose.project=$P" --label "com.docker.compose.service=$name" "$@" >/dev/null
}
good=(--restart unless-stopped --health-cmd true --health-interval 2s --memory 64m --cpus 0.5)
idle=(sh -c 'echo started; while true; do sleep 5; done')

if [ "$KIND" = steady ]; then
  run postgres "${good[@]}" --label homepage.name=Postgres --label homepage.group=Databases --label audit.owner=ops $IMG "${idle[@]}"
  run mariadb "${good[@]}" --label homepage.name=MariaDB --label homepage.group=Databases $IMG "${idle[@]}"
  run redis "${good[@]}" --label homepage.name=Redis --label homepage.group=Databases -p 127.0.0.1:6379:6379 $IMG "${idle[@]}"
  run loki "${good[@]}" --label homepage.name=Loki --label homepage.group=Monitoring \
    --label 'traefik.http.routers.loki.rule=Host(`loki.quietly.online`)' \
    --label traefik.http.routers.loki.middlewares=authelia@docker --label traefik.http.routers.loki.tls.certresolver=le \
    $IMG "${idle[@]}"
  # The accounting candidate, half integrated: behind Traefik with Authelia and TLS, no VPN allow-list yet.
  run erpnext "${good[@]}" -e DB_HOST=mariadb -e REDIS_URL=redis://redis:6379/0 \
    --label com.docker.compose.depends_on=mariadb:service_started:false --label homepage.name=ERPNext --label homepage.group=Business \
    --label 'traefik.http.routers.erpnext.rule=Host(`accounting.quietly.online`)' \
    --label traefik.http.routers.erpnext.middlewares=authelia@docker --label traefik.http.routers.erpnext.tls.certresolver=le \
    $IMG "${idle[@]}"
  echo "fleet '$P' created: 5 containers" >&2
  exit 0
fi

# web needs grafana (compose's depends_on) and sick needs web (a URL in its environment): the
# dependency map's edges.
run web "${good[@]}" \
  --label com.docker.compose.depends_on=grafana:service_started:false \
  --label homepage.name="Web front" --label homepage.group=Apps --label homepage.description="The public web site" \
  --label audit.owner=ops --label audit.tier=1 --label audit.docs=services/web.md \
  --label 'traefik.http.routers.web.rule=Host(`www.quietly.online`)' \
  --label traefik.http.routers.web.middlewares=authelia@docker \
  --label traefik.http.routers.web.tls=true \
  -p 0.0.0.0:443:443 $IMG "${idle[@]}"
run grafana "${good[@]}" --label homepage.name=Grafana --label homepage.group=Monitoring $IMG "${idle[@]}"
run nohealth --restart unless-stopped --memory 64m --cpus 0.5 $IMG "${idle[@]}"
run sick -e UPSTREAM_URL=http://web:80/ --restart unless-stopped --health-cmd false --health-interval 1s --health-retries 1 --memory 64m --cpus 0.5 $IMG "${idle[@]}"
run norestart --restart no --health-cmd true --health-interval 2s --memory 64m --cpus 0.5 $IMG "${idle[@]}"
run crashloop --restart always --memory 64m --cpus 0.5 $IMG sh -c 'echo "FATAL: cannot open config"; exit 1'
run oom --restart no --memory 8m --memory-swap 8m --cpus 0.5 $IMG sh -c 'x=$(head -c 30000000 /dev/zero | tr "\0" a); sleep 100000'
run nolimits --restart unless-stopped --health-cmd true --health-interval 2s $IMG "${idle[@]}"
run public "${good[@]}" -p 0.0.0.0:8080:80 -p 127.0.0.1:9090:9090 $IMG "${idle[@]}"
# Created, not started: sandboxes such as CI refuse a privileged container's capabilities.
create privileged "${good[@]}" --privileged $IMG "${idle[@]}"
run socket "${good[@]}" -v "$SOCK:/var/run/docker.sock:ro" $IMG "${idle[@]}"
run latest "${good[@]}" audit-test/busybox:latest "${idle[@]}"
run untagged "${good[@]}" "$($D image inspect -f '{{.Id}}' $IMG)" "${idle[@]}"
run old "${good[@]}" audit-test/old:2020 "${idle[@]}"
run noauth "${good[@]}" \
  --label 'traefik.http.routers.noauth.rule=Host(`open.quietly.online`)' --label traefik.http.routers.noauth.tls=true \
  $IMG "${idle[@]}"
run notls "${good[@]}" \
  --label 'traefik.http.routers.notls.rule=Host(`plain.quietly.online`)' \
  --label traefik.http.routers.notls.middlewares=authelia@docker --label traefik.http.routers.notls.entrypoints=web \
  $IMG "${idle[@]}"
run noisy "${good[@]}" $IMG sh -c 'while true; do echo "ERROR: upstream timed out <script>alert(1)</script>"; echo "WARN: retrying"; sleep 0.2; done'
run hungry --restart unless-stopped --health-cmd true --health-interval 2s --cpus 0.5 --memory 200m --memory-swap 200m \
  --tmpfs /fill $IMG sh -c 'head -c 195000000 /dev/zero > /fill/blob; while true; do sleep 5; done'
run oversized --restart unless-stopped --health-cmd true --health-interval 2s --cpus 0.5 --memory 2g $IMG "${idle[@]}"
# A container left out of the audit on purpose.
run scratchpad --label audit.exclude=true $IMG "${idle[@]}"
echo "fleet '$P' created: $($D ps -aq --filter "label=com.docker.compose.project=$P" | wc -l) containers" >&2
