#!/usr/bin/env bash
# The scale rows as an operator meets them: `xfs:scrub` and `xfs:repair --apply` typed into the xfstage Karaf
# distribution (a scratch copy of the one `./mvnw -B install` builds), whole JVM capped at -Xmx128m, each command sent
# through bin/client, against xfs_repair -n / a full xfs_repair on the same image or a copy damaged alike. For each
# image, in one invocation:
#   noop     `xfs:strategies` through bin/client, three times: the median is the client's own start-up and ssh round
#            trip, subtracted below
#   scrub    `xfs:scrub IMAGE` three times in the running Karaf (the first pays the JIT; the others as a console
#            that has already worked does); the engine's own time from its "clean (N strategies, M ms)" line
#   repair   AG 1's last bnobt record made one block short (as scale-table.sh's bnobt row), `xfs:repair --apply`,
#            then xfs_repair -n must call the copy clean; a full xfs_repair on a copy damaged alike
# Prints one markdown row per run; a ratio is ours (wall minus the no-op's round trip) over xfs_repair's wall time.
#
#   benchmarks/karaf-scale.sh [MILLIONS...]      (default: 0.25 1 4; images from make-scale-image.sh, made if missing)
#   benchmarks/karaf-scale.sh --dir-repair IMAGE [N]
#            issue 18's row instead: IMAGE scrubbed twice (a console that has worked), then N (default 5) copies with
#            /dir1's hash index damaged as XfsRepairComparison repair-dir damages it, each `xfs:repair --apply`
#            (xfs_repair -n must call it clean after) against a full xfs_repair on a copy damaged alike
#
# XFSTAGE_SCALE_DIR: where the images and the damaged copies live (default /work/bench/scale, never the repository);
# XFSTAGE_SCALE_MKFS="-m rmapbt=1": the images made with those mkfs.xfs options instead (as scale-table.sh names them).
set -euo pipefail
cd "$(dirname "$0")/.."
dist=features/distribution/target/assembly
[ -x "$dist/bin/karaf" ] || { echo "no distribution in $dist: run ./mvnw -B install -DskipTests first" >&2; exit 2; }
command -v xfs_repair >/dev/null || { echo "needs xfsprogs (xfs_repair, xfs_db, mkfs.xfs)" >&2; exit 2; }
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
dir=${XFSTAGE_SCALE_DIR:-/work/bench/scale}
mkfs=${XFSTAGE_SCALE_MKFS:-}
suffix=$(printf %s "$mkfs" | sed 's/-m //g; s/[^a-zA-Z0-9=,]/_/g')   # as make-scale-image.sh names the image
dir_image=
dir_runs=5
if [ "${1:-}" = "--dir-repair" ]; then
    dir_image=${2:?--dir-repair IMAGE [N]}
    dir_runs=${3:-5}
    set --
fi
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(0.25 1 4)

work=$(mktemp -d)
copy="$dir/karaf-scale-copy.img"
home="$work/karaf"
stop_karaf() {
    "$home/bin/stop" >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do
        local pid; pid=$(cat "$home/karaf.pid" 2>/dev/null || true)
        [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null && break
        sleep 1
    done
    rm -rf "$work" "$copy" "$copy.undo"
}
trap stop_karaf EXIT
cp -a "$dist" "$home"
EXTRA_JAVA_OPTS="-Xmx128m" "$home/bin/start"

# xfs COMMAND: runs it through bin/client; sets X_WALL (seconds), X_STATUS and X_OUT
xfs() {
    local t0 t1
    t0=$(date +%s.%N)
    X_STATUS=0
    X_OUT=$(echo "$*" | "$home/bin/client" -r 90 -d 1 -b 2>&1) || X_STATUS=$?
    t1=$(date +%s.%N)
    X_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}
wall() { # wall CMD...: its wall seconds (its output dropped); fails the script when it fails
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
ratio() { awk -v o="$1" -v n="$2" -v x="$3" 'BEGIN { printf "%.2fx", (o - n) / x }'; }
damage() { # a fresh copy of $img with AG 1's last bnobt record one block short (a leaked block)
    rm -f "$copy" "$copy.undo"; cp --sparse=always "$img" "$copy"
    local last cnt
    last=$(xfs_db -r -c "agf 1" -c "addr bnoroot" -c "print numrecs" "$copy" | awk '{print $3}')
    cnt=$(xfs_db -r -c "agf 1" -c "addr bnoroot" -c "print recs[$last].blockcount" "$copy" | awk '{print $3}')
    [ "$cnt" -gt 1 ] || { echo "AG 1's last bnobt record is one block: pick another damage" >&2; exit 1; }
    xfs_db -x -c "agf 1" -c "addr bnoroot" -c "write -d recs[$last].blockcount $((cnt - 1))" "$copy" >/dev/null 2>&1
}

xfs "feature:list -i" # waits for the console (retries for up to 90 s)
grep -q xfstage <<< "$X_OUT" || { echo "the xfstage feature is not installed in $home: $X_OUT" >&2; exit 1; }
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) vCPU, $(free -g | awk '/Mem:/{print $2}') GiB, $("$JAVA_HOME/bin/java" -version 2>&1 | head -1), $(xfs_repair -V); Karaf with -Xmx128m"
echo "| inodes | run | through bin/client, wall | less the no-op's round trip | engine's own time (over xfs_repair) | xfs_repair, wall | ratio (round trip taken off) | load |"
echo "|---|---|---|---|---|---|---|---|"
if [ -n "$dir_image" ]; then
    img=$dir_image
    cat "$img" > /dev/null # both sides read from the page cache
    noops=()
    for _ in 1 2 3; do xfs "xfs:strategies"; noops+=("$X_WALL"); done
    noop=$(printf '%s\n' "${noops[@]}" | sort -n | sed -n 2p)
    for _ in 1 2; do xfs "xfs:scrub $img"; [ "$X_STATUS" = 0 ] || { echo "xfs:scrub $img: exit $X_STATUS" >&2; exit 1; }; done
    dir_damage() { # a fresh copy of $img with a hash of /dir1's leaf block out of order (XfsRepairComparison's DIRECTORY)
        rm -f "$copy" "$copy.undo"; cp --sparse=always "$img" "$copy"
        xfs_db -x -c "path /dir1" -c "dblock 8388608" -c "write -d lents[5].hashval 0" "$copy" >/dev/null 2>&1
    }
    for i in $(seq 1 "$dir_runs"); do
        dir_damage
        load=$(cut -d' ' -f1 /proc/loadavg)
        xfs "xfs:repair --apply --undo-file $copy.undo $copy"
        [ "$X_STATUS" = 0 ] || { echo "xfs:repair --apply $copy: exit $X_STATUS: $X_OUT" >&2; exit 1; }
        ours=$X_WALL
        xfs_repair -n "$copy" >/dev/null 2>&1 || { echo "our repair of /dir1 did not leave the copy clean" >&2; exit 1; }
        dir_damage
        full=$(wall xfs_repair "$copy")
        echo "| $(basename "$img") | repair --apply, /dir1 #$i | $ours s | $(awk -v o="$ours" -v n="$noop" 'BEGIN { printf "%.2f", o - n }') s (no-op $noop s) | | full $full s | **$(ratio "$ours" "$noop" "$full")** | $load |"
    done
    exit 0
fi
for m in "${sizes[@]}"; do
    img="$dir/scale-${m}M${suffix:+-$suffix}.img"
    [ -f "$img" ] || img=$(benchmarks/make-scale-image.sh "$m" "$dir" "$mkfs")
    cat "$img" > /dev/null # both sides read from the page cache
    inodes=$(xfs_db -r -c "sb 0" -c "print icount" "$img" | awk '{print $3}')
    noops=()
    for _ in 1 2 3; do xfs "xfs:strategies"; noops+=("$X_WALL"); done
    noop=$(printf '%s\n' "${noops[@]}" | sort -n | sed -n 2p) # the median of three
    ref=$(wall xfs_repair -n "$img")
    for i in 1 2 3; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        xfs "xfs:scrub $img"
        [ "$X_STATUS" = 0 ] || { echo "xfs:scrub $img: exit $X_STATUS: $X_OUT" >&2; exit 1; }
        ms=$(sed -n 's/.*clean ([0-9]* strategies, \([0-9]*\) ms).*/\1/p' <<< "$X_OUT")
        echo "| $inodes | scrub${suffix:+ ($suffix)} #$i | $X_WALL s | $(awk -v o="$X_WALL" -v n="$noop" 'BEGIN { printf "%.2f", o - n }') s (no-op $noop s) | $ms ms ($(awk -v m="$ms" -v x="$ref" 'BEGIN { printf "%.2fx", m / 1000 / x }')) | -n $ref s | **$(ratio "$X_WALL" "$noop" "$ref")** | $load |"
    done
    damage
    load=$(cut -d' ' -f1 /proc/loadavg)
    xfs "xfs:repair --apply --undo-file $copy.undo $copy"
    [ "$X_STATUS" = 0 ] || { echo "xfs:repair --apply $copy: exit $X_STATUS: $X_OUT" >&2; exit 1; }
    ours=$X_WALL
    xfs_repair -n "$copy" >/dev/null 2>&1 || { echo "our repair (${m}M) did not leave the copy clean" >&2; exit 1; }
    damage
    full=$(wall xfs_repair "$copy")
    echo "| $inodes | repair --apply, bnobt${suffix:+ ($suffix)} | $ours s | $(awk -v o="$ours" -v n="$noop" 'BEGIN { printf "%.2f", o - n }') s | | full $full s | **$(ratio "$ours" "$noop" "$full")** | $load |"
done
