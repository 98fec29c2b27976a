#!/usr/bin/env bash
# The main job: make a sample XFS image and a damaged copy, start the xfstage Karaf distribution built by
# `./mvnw install`, and through bin/client: scrub (damage found), repair --apply, scrub again (clean).
set -euo pipefail
cd "$(dirname "$0")/.."
home=features/distribution/target/assembly
if [ ! -x "$home/bin/karaf" ]; then
  echo "demo: no distribution in $home; build it first: ./mvnw -B install -DskipTests" >&2
  exit 2
fi
if [ -z "${JAVA_HOME:-}" ] && [ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi

image=$(scripts/make-sample.sh)
# a damaged copy: AG 1's AGF claims a longest free extent of 7 blocks and the superblock a wrong free-block count
# (xfs_db -x, as an operator's bad day would)
damaged="${image%.img}-damaged.img"
cp --sparse=always "$image" "$damaged"
xfs_db=$(command -v xfs_db || echo /usr/sbin/xfs_db)
"$xfs_db" -x -c "agf 1" -c "write -d longest 7" -c "sb 0" -c "write -d fdblocks 1000" "$damaged" >/dev/null

stop_karaf() {
  "$home/bin/stop" >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do
    pid=$(cat "$home/karaf.pid" 2>/dev/null || true) # karaf.pid.file = ${karaf.base}/karaf.pid
    [ -z "$pid" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 1
  done
}
trap stop_karaf EXIT

"$home/bin/start"
# each command's exit status as bin/client returns it: 0 clean/done, 1 damage found, 2 could not run
xfs() {
  echo "karaf@xfstage> $*"
  local status=0
  echo "$*" | "$home/bin/client" -r 60 -d 1 -b >"$home/data/demo.out" 2>&1 || status=$?
  grep -v '^retrying\|JAVA_HOME not set' "$home/data/demo.out" || true
  echo "(exit status $status)"
}
xfs "feature:list -i | grep xfstage"
xfs "xfs:info $image"
xfs "xfs:manifest $image | head -n 8"
xfs "xfs:scrub $image"
xfs "xfs:scrub $damaged"
xfs "xfs:repair $damaged"
rm -f "$damaged.undo"
xfs "xfs:repair --apply --undo-file $damaged.undo $damaged"
xfs "xfs:scrub $damaged"
xfs "xfs:strategies"
xfs "xfs:staging"
