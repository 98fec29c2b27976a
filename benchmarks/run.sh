#!/usr/bin/env bash
# The figures behind README's performance table, in one run on this machine.
# Build first: ./mvnw -B install -DskipTests
set -euo pipefail
cd "$(dirname "$0")/.."
jar=benchmarks/target/benchmarks.jar
[ -f "$jar" ] || { echo "no $jar: run ./mvnw -B install -DskipTests first" >&2; exit 2; }
java=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}/bin/java

echo "== machine"
grep -m1 'model name' /proc/cpuinfo || true
echo "cpus: $(nproc), memory: $(free -g | awk '/Mem:/{print $2}') GiB, $($java -version 2>&1 | head -1)"

echo "== xfarray load/store against raw MappedByteBuffer (JMH, 16-byte records)"
$java -jar "$jar" LoadStoreBenchmark -f 1 -wi 3 -i 5 -rf text -rff /dev/null 2>&1 | grep -E '^Benchmark|LoadStoreBenchmark\.'

echo "== xfblob append/load of 24-byte names against byte[]s on the heap (JMH)"
$java -jar "$jar" BlobBenchmark -f 1 -wi 3 -i 5 -rf text -rff /dev/null 2>&1 | grep -E '^Benchmark|BlobBenchmark\.'

echo "== sort of 10^7 records, median of 3"
$java -Xmx2g -cp "$jar" org.xfstage.benchmarks.SortComparison 10000000 3

echo "== sort of 10^8 records"
$java -Xmx3g -cp "$jar" org.xfstage.benchmarks.SortComparison 100000000 1

echo "== sort of 10^8 records with -Xmx64m (xfarray only: a long[10^8] alone needs 800 MB)"
$java -Xmx64m -cp "$jar" org.xfstage.benchmarks.SortComparison 100000000 1 xfarray-only

echo "== metadata walk and scrub against xfs_repair -n (same image, same run)"
big=$(benchmarks/make-big-image.sh target/big 200000)
$java -cp "$jar" org.xfstage.benchmarks.XfsRepairComparison manifest "$big" 3
$java -Xmx128m -cp "$jar" org.xfstage.benchmarks.XfsRepairComparison scrub "$big" 3
$java -Xmx128m -cp "$jar" org.xfstage.benchmarks.XfsRepairComparison repair "$big" 3
rm -rf target/big
big=$(benchmarks/make-big-image.sh target/big 200000 "-m rmapbt=1")
echo "(the same files on an rmapbt filesystem)"
$java -Xmx128m -cp "$jar" org.xfstage.benchmarks.XfsRepairComparison scrub "$big" 3
corpus=bundles/device/target/corpus/agcount16-v4.img
if [ -f "$corpus" ]; then
  $java -cp "$jar" org.xfstage.benchmarks.XfsRepairComparison manifest "$corpus" 5
  $java -Xmx128m -cp "$jar" org.xfstage.benchmarks.XfsRepairComparison scrub "$corpus" 5
fi
rm -rf target/big

# The scale table (README, "Scale"): inode-bound images of 0.25, 1 and 4 million inodes (XFSTAGE_SCALE_SIZES; 16 on
# demand), made under XFSTAGE_SCALE_DIR when missing (default /work/bench/scale: never in the repository or a module's
# target/). Tens of minutes and about 20 GiB of sparse image: only on request.
if [ -n "${XFSTAGE_SCALE:-}" ]; then
  benchmarks/scale-table.sh ${XFSTAGE_SCALE_SIZES:-0.25 1 4}
fi
