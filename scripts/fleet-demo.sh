#!/usr/bin/env bash
# The fleet on three Karaf instances on this machine, each with its own ports and its own 10 images (one damaged),
# driven through bin/client:
#   1. xfs:fleet-members, then xfs:fleet-scrub gathers the 30 verdicts (the damaged one found on its member)
#   2. the time of 3 x 10 scrubs across three members against the same 30 scrubs on one member
#   3. a second xfs:fleet-repair --apply of the device under repair, from another instance, is refused
#   4. a member killed by its pid during a fleet-scrub is reported as left, the others' verdicts are kept
#   5. the scheduler (the oldest member) is killed and the next oldest takes over
#   6. the command ACL: a viewer may dry-run fleet-repair, not --apply it
# Each step checks what it shows (expect): a check that fails makes the script exit 1.
# Needs the distribution: ./mvnw -B -pl features/feature,features/distribution -am verify -DskipTests
# Everything goes to target/fleet-demo (about 3 x 33 MB of Karaf plus sparse images); the instances are stopped at
# the end. Ports: ssh 8301-8303, RMI 1399-1401 / 44644-44646, Hazelcast 5801-5803, on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
dist=features/distribution/target/assembly
if [ ! -x "$dist/bin/karaf" ]; then
  echo "fleet-demo: no distribution in $dist; build it first: ./mvnw -B -pl features/feature,features/distribution -am verify -DskipTests" >&2
  exit 2
fi
if [ -z "${JAVA_HOME:-}" ] && [ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi
work=$(pwd)/target/fleet-demo
rm -rf "$work" && mkdir -p "$work"
xfs_db=$(command -v xfs_db || echo /usr/sbin/xfs_db)

sample=$(scripts/make-sample.sh "$work/sample")
members="127.0.0.1:5801,127.0.0.1:5802,127.0.0.1:5803"

# node I: its own Karaf copy, ports and images
configure() { # node index, cluster name, devices, allowed paths
  local i=$1 home="$work/node$1"
  cat > "$home/etc/org.xfstage.fleet.cfg" <<EOF
clusterName = $2
members = $members
interface = 127.0.0.1
port = $((5801 + i))
nodeName = node$i
devices = $3
scrubIntervalHours = 0
tickSeconds = 2
EOF
  echo "allowedPaths = $4" > "$home/etc/org.xfstage.device.cfg"
}
for i in 0 1 2; do
  home="$work/node$i"
  cp -r "$dist" "$home"
  sed -i "s/^sshPort = .*/sshPort = $((8301 + i))/" "$home/etc/org.apache.karaf.shell.cfg"
  sed -i "s/^rmiRegistryPort = .*/rmiRegistryPort = $((1399 + i))/; s/^rmiServerPort = .*/rmiServerPort = $((44644 + i))/" \
    "$home/etc/org.apache.karaf.management.cfg"
  mkdir -p "$home/images"
  devices=""
  for n in $(seq -w 1 10); do
    cp --sparse=always "$sample" "$home/images/img-$n.img"
    devices="$devices${devices:+,}$home/images/img-$n.img"
  done
  configure "$i" xfstage-demo "$devices" "$home/images"
done
# the damaged device is a bigger one (120 000 inodes): its repair takes long enough for a second console to ask
# for the same device while the first holds the lease
damaged="$work/node1/images/img-03.img"
mkdir -p "$work/big" && : > "$work/big/empty"
{
  echo "/dev/null"; echo "0 0"; echo "d--755 0 0"
  for d in $(seq 1 120); do
    echo " d$d d--755 0 0"
    for f in $(seq 1 1000); do echo "  f$f ---644 0 0 $work/big/empty"; done
    echo " \$"
  done
  echo "\$"
} > "$work/big/protofile"
rm -f "$damaged" && truncate -s 1G "$damaged"
"$(command -v mkfs.xfs || echo /usr/sbin/mkfs.xfs)" -q -f -p "$work/big/protofile" "$damaged"
# AG 1's AGF claims a longest free extent of 7 blocks (xfs_db -x, as an operator's bad day would)
"$xfs_db" -x -c "agf 1" -c "write -d longest 7" "$damaged" >/dev/null

# karaf.pid.file = ${karaf.base}/karaf.pid
pid_of() { cat "$work/node$1/karaf.pid" 2>/dev/null || true; }
stop_all() {
  for i in 0 1 2; do
    "$work/node$i/bin/stop" >/dev/null 2>&1 || true
  done
  for i in 0 1 2; do
    for _ in $(seq 1 30); do
      pid=$(pid_of "$i")
      { [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; } && break
      sleep 1
    done
  done
}
trap stop_all EXIT

# a command on node I through bin/client; prints the output and the exit status
xfs() {
  local i=$1; shift
  echo "node$i> $*"
  local status=0
  echo "$*" | "$work/node$i/bin/client" -r 90 -d 1 -b >"$work/node$i/client.out" 2>&1 || status=$?
  grep -v '^retrying\|JAVA_HOME not set' "$work/node$i/client.out" || true
  echo "(exit status $status)"
  return 0
}
# the proof: a pattern that must be in a command's output, else the demo fails (exit 1) saying what is missing
failures=0
expect() { # file, extended regex, what it shows
  if grep -Eq "$2" "$1"; then
    echo "ok: $3"
  else
    echo "FAILED: $3 (no /$2/ in $1)" >&2
    failures=$((failures + 1))
  fi
}
# seconds a command takes, for the figures
timed() {
  local start end
  start=$(date +%s.%N)
  xfs "$@"
  end=$(date +%s.%N)
  echo "(took $(echo "$end - $start" | bc) s)"
}
# three runs of fleet-scrub at --parallel 1 and 2, their own figure ("30 device(s) in N ms") kept in figures.txt
figures() { # label, node index
  for p in 1 2; do
    for run in 1 2 3; do
      xfs "$2" "xfs:fleet-scrub --parallel $p" > "$work/figure.out"
      grep "device(s) in\|exit status" "$work/figure.out" || true
      echo "figure: $1, --parallel $p, run $run: $(grep -o '[0-9]* device(s) in [0-9]* ms' "$work/figure.out")" >> "$work/figures.txt"
    done
  done
}
wait_member() { # node index: until its fleet answers
  for _ in $(seq 1 90); do
    if echo "xfs:fleet-status" | "$work/node$1/bin/client" -r 30 -d 1 -b 2>/dev/null | grep -q "^scheduler"; then
      return 0
    fi
    sleep 1
  done
  echo "fleet-demo: node$1's fleet did not come up (see $work/node$1/data/log/karaf.log)" >&2
  exit 2
}

for i in 0 1 2; do
  "$work/node$i/bin/start"
  # one after the other, so that node0 is the oldest member (the scheduler)
  echo "feature:install xfstage-fleet" | "$work/node$i/bin/client" -r 90 -d 1 -b >/dev/null 2>&1
  wait_member "$i"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 1. members and a fleet scrub"
xfs 0 xfs:fleet-members
timed 2 xfs:fleet-scrub --parallel 1
expect "$work/node2/client.out" "^30 device\(s\) in [0-9]+ ms: 29 clean, 1 damaged, 0 not scrubbed" \
  "fleet-scrub gathers the verdicts of all 30 devices of the three members, the damaged one found"
echo "== 2. timing: 3 x 10 across three members"
figures "three members" 0

echo "== 3. a second repair of the device under repair is refused"
# two consoles started at the same moment; their bin/client JVMs take seconds to connect on a loaded machine, so
# when one repair was over before the other arrived, the device is damaged again and both are retried
for attempt in 1 2 3 4 5; do
  ( xfs 0 "xfs:fleet-repair --apply node1:$damaged" > "$work/repair-a.out" ) &
  first=$!
  ( xfs 2 "xfs:fleet-repair --apply $damaged" > "$work/repair-b.out" ) &
  second=$!
  wait "$first" "$second"
  cat "$work/repair-a.out" "$work/repair-b.out"
  if grep -q ": busy" "$work/repair-a.out" "$work/repair-b.out"; then
    echo "figure: a second repair refused under the lease (attempt $attempt)" >> "$work/figures.txt"
    cat "$work/repair-a.out" "$work/repair-b.out" > "$work/repairs.out"
    break
  fi
  echo "(the repairs did not overlap: the device is damaged again and both are retried)"
  "$xfs_db" -x -c "agf 1" -c "write -d longest 7" "$damaged" >/dev/null
done
touch "$work/repairs.out"
expect "$work/repairs.out" ": busy \(under a lease: node1 repair --apply" "a second repair of the device under repair is refused, its holder named"
expect "$work/repairs.out" "on node1: repaired \([0-9]+ block\(s\) written\)" "the other repair ran on the owning member"
expect "$work/repairs.out" "undo journal .* on member node1" "its undo journal stays on the owning member, its path reported"
xfs 1 xfs:fleet-status

echo "== 4. node2 killed by its pid during a fleet scrub"
log2="$work/node2/data/log/karaf.log"
seen=$(grep -c "scrub of .* starts" "$log2" || true)
( xfs 0 xfs:fleet-scrub --parallel 1 > "$work/scrub-kill.out" ) &
run=$!
# killed once it has scrubbed a few of its devices in this run
for _ in $(seq 1 300); do
  [ "$(grep -c "scrub of .* starts" "$log2" || true)" -ge $((seen + 3)) ] && break
  sleep 0.1
done
kill -9 "$(pid_of 2)"
echo "node2 (pid) killed"
wait "$run"
cat "$work/scrub-kill.out"
expect "$work/scrub-kill.out" "node2 +\| member left" "the killed member's devices are reported as member left"
expect "$work/scrub-kill.out" "^30 device\(s\) in [0-9]+ ms: (2[0-9]) clean, [0-9]+ damaged, [1-9][0-9]* not scrubbed" \
  "the other members' verdicts are kept"

echo "== 5. the scheduler node0 is killed; node1, the next oldest, takes over"
xfs 1 "xfs:fleet-status" | grep "^scheduler"
kill -9 "$(pid_of 0)"
echo "node0 (pid) killed"
for _ in $(seq 1 60); do
  echo "xfs:fleet-status" | "$work/node1/bin/client" -r 30 -d 1 -b 2>/dev/null | grep -q "^scheduler: node1" && break
  sleep 1
done
xfs 1 "xfs:fleet-members"
xfs 1 "xfs:fleet-status" > "$work/scheduler.out"
grep "^scheduler" "$work/scheduler.out" || true
expect "$work/scheduler.out" "^scheduler: node1" "the scheduler moved to node1 when node0 was killed"
stop_all

echo "== 6. timing: the same 30 scrubs on one member"
all=""
for i in 0 1 2; do
  for n in $(seq -w 1 10); do
    all="$all${all:+,}$work/node$i/images/img-$n.img"
  done
done
sed -i "s/^members = .*/members = 127.0.0.1:5801/" "$work/node0/etc/org.xfstage.fleet.cfg"
sed -i "s#^devices = .*#devices = $all#; s/^clusterName = .*/clusterName = xfstage-solo/" "$work/node0/etc/org.xfstage.fleet.cfg"
echo "allowedPaths = $work" > "$work/node0/etc/org.xfstage.device.cfg"
rm -f "$work/node0/karaf.pid"
# a viewer for step 7 (the distribution ships the admin karaf/karaf only)
printf 'vera = vera,_g_:viewergroup\n_g_\\:viewergroup = group,viewer,ssh\n' >> "$work/node0/etc/users.properties"
"$work/node0/bin/start"
wait_member 0
xfs 0 "xfs:fleet-members" | grep "member(s)"
xfs 0 "xfs:fleet-scrub" | grep "device(s) in" # a first run after the start, as the three members had: not counted
figures "one member" 0
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 7. the command ACL: a viewer may dry-run fleet-repair, not --apply it"
one="$work/node0/images/img-01.img"
for c in "xfs:fleet-repair node0:$one" "xfs:fleet-repair --apply node0:$one"; do
  echo "vera (viewer)> $c"
  status=0
  echo "$c" | "$work/node0/bin/client" -u vera -p vera -r 30 -d 1 -b > "$work/acl.out" 2>&1 || status=$?
  grep -v '^retrying\|JAVA_HOME not set' "$work/acl.out" || true
  echo "(exit status $status)"
done
expect "$work/acl.out" "Insufficient credentials" "a viewer cannot fleet-repair --apply (command ACL)"
echo "== figures (the time each fleet-scrub reports, from its start to the last verdict)"
cat "$work/figures.txt"
if [ "$failures" -gt 0 ]; then
  echo "fleet-demo: $failures check(s) FAILED" >&2
  exit 1
fi
echo "fleet-demo: every check passed"
