#!/usr/bin/env bash
# README's scale table (issue 19) in one invocation: for each size, an inode-bound image from make-scale-image.sh
# (made when missing), then in turn, each in a cold JVM with -Xmx128m (start-up and JIT included, as an operator's
# run pays them) and each xfs_repair under /usr/bin/time:
#   scrub            our scrub               against xfs_repair -n
#   repair agf       AG 1's AGF magic zeroed  (a new AGF around a free-space rebuild) against a full xfs_repair
#   repair bnobt     AG 1's last bnobt record one block short (a leaked block: the bnobt, cntbt and AGF rebuilt)
# Our repairs must leave the copy clean for xfs_repair -n, or the script stops. Prints one markdown row per run:
# wall and CPU seconds, the ratio, our peak heap and peak RSS split into anonymous / staging (memfd) / mapped image,
# xfs_repair's max RSS, and for scrubs the staging per inode and the estimate made before the walk against the peak.
#
#   benchmarks/scale-table.sh [MILLIONS...]        (default: 0.25 1 4; 16 on demand)
#
# Images and the damaged copies live in XFSTAGE_SCALE_DIR (default /work/bench/scale), never in the repository;
# XFSTAGE_BENCH_JAR names another build's benchmarks jar to measure; XFSTAGE_SCALE_MKFS="-m rmapbt=1" makes and
# measures images with those mkfs.xfs options instead. Build
# first: ./mvnw -B install -DskipTests.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=${XFSTAGE_BENCH_JAR:-benchmarks/target/benchmarks.jar}
[ -f "$jar" ] || { echo "no $jar: run ./mvnw -B install -DskipTests first" >&2; exit 2; }
command -v xfs_repair >/dev/null && [ -x /usr/bin/time ] || { echo "needs xfsprogs and /usr/bin/time (Debian: xfsprogs, time)" >&2; exit 2; }
java=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}/bin/java
dir=${XFSTAGE_SCALE_DIR:-/work/bench/scale}
mkfs=${XFSTAGE_SCALE_MKFS:-}   # for example "-m rmapbt=1": the rows of an rmapbt filesystem
suffix=$(printf %s "$mkfs" | sed 's/-m //g; s/[^a-zA-Z0-9=,]/_/g')   # as make-scale-image.sh names the image
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(0.25 1 4)
copy="$dir/scale-table-copy.img"
trap 'rm -f "$copy" "$copy.undo"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) vCPU, $(free -g | awk '/Mem:/{print $2}') GiB, $($java -version 2>&1 | head -1), $(xfs_repair -V)"
echo "| inodes | run | ours, wall (CPU) | xfs_repair, wall (CPU) | ratio wall / CPU | our peak heap | our peak RSS: anon / staging / image (total) | xfs_repair max RSS | staging per inode | estimate / peak | load |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"

# timed CMD...: runs it under /usr/bin/time; sets T_WALL T_CPU T_RSS (MiB) and T_OUT (its stdout)
timed() {
    local t; t=$(mktemp)
    T_OUT=$(/usr/bin/time -f "%e %U %S %M" -o "$t" "$@" 2>/dev/null) || { echo "failed: $*" >&2; rm -f "$t"; exit 1; }
    read -r T_WALL u s m < "$t"; rm -f "$t"
    T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    T_RSS=$(( m / 1024 ))
}
field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<< "$2"; }

damage() { # damage KIND: a fresh copy of $img with AG 1's AGF or bnobt damaged
    rm -f "$copy" "$copy.undo"; cp --sparse=always "$img" "$copy"
    case $1 in
        agf) xfs_db -x -c "agf 1" -c "write -d magicnum 0" "$copy" >/dev/null 2>&1 ;;
        bnobt)
            local last cnt
            last=$(xfs_db -r -c "agf 1" -c "addr bnoroot" -c "print numrecs" "$copy" | awk '{print $3}')
            cnt=$(xfs_db -r -c "agf 1" -c "addr bnoroot" -c "print recs[$last].blockcount" "$copy" | awk '{print $3}')
            [ "$cnt" -gt 1 ] || { echo "AG 1's last bnobt record is one block: pick another damage" >&2; exit 1; }
            xfs_db -x -c "agf 1" -c "addr bnoroot" -c "write -d recs[$last].blockcount $((cnt - 1))" "$copy" >/dev/null 2>&1 ;;
    esac
}

for m in "${sizes[@]}"; do
    img="$dir/scale-${m}M${suffix:+-$suffix}.img"
    [ -f "$img" ] || img=$(benchmarks/make-scale-image.sh "$m" "$dir" "$mkfs")
    for run in scrub agf bnobt; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        if [ $run = scrub ]; then
            timed "$java" -Xmx128m -cp "$jar" org.xfstage.benchmarks.ScaleRow scrub "$img"; ours=$T_OUT
            ow=$T_WALL oc=$T_CPU
            timed xfs_repair -n "$img"
            label="scrub${suffix:+ ($suffix)}"
        else
            damage $run
            timed "$java" -Xmx128m -cp "$jar" org.xfstage.benchmarks.ScaleRow repair "$copy" "$copy.undo"; ours=$T_OUT
            ow=$T_WALL oc=$T_CPU
            xfs_repair -n "$copy" >/dev/null 2>&1 || { echo "our repair ($run, ${m}M) did not leave the copy clean" >&2; exit 1; }
            damage $run
            timed xfs_repair "$copy"
            label="repair --apply, $run${suffix:+ ($suffix)}"
        fi
        inodes=$(field inodes "$ours")
        peak=$(field stagingPeak "$ours"); est=$(field stagingEstimate "$ours")
        perinode=$([ $run = scrub ] && awk -v p="$peak" -v n="$inodes" 'BEGIN { printf "%.1f B", p / n }' || echo "")
        ratio_est=$([ $run = scrub ] && awk -v e="$est" -v p="$peak" 'BEGIN { printf "%.2f", e / p }' || echo "")
        printf "| %s | %s | %.2f s (%.2f s) | %.2f s (%.2f s) | %.2fx / %.2fx | %s MiB | %s / %s / %s MiB (%s MiB) | %s MiB | %s | %s | %s |\n" \
            "$(sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<< "$inodes")" "$label" "$ow" "$oc" "$T_WALL" "$T_CPU" \
            "$(awk -v a="$ow" -v b="$T_WALL" 'BEGIN { print a / b }')" "$(awk -v a="$oc" -v b="$T_CPU" 'BEGIN { print a / b }')" \
            "$(field heapPeakMiB "$ours")" "$(field anonMiB "$ours")" "$(field shmemMiB "$ours")" "$(field fileMiB "$ours")" \
            "$(field hwmMiB "$ours")" "$T_RSS" "$perinode" "$ratio_est" "$load"
    done
done
