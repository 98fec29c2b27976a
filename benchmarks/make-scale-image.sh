#!/usr/bin/env bash
# An inode-bound image of N million inodes for the scale table (issue 19): empty files in directories of 2000
# entries, made with mkfs.xfs -p (no mounting, no root). Empty files have no extents, so the run's cost is the
# inodes and the directories, as on the filesystems of many small files where xfs_repair's memory is the complaint.
#
#   benchmarks/make-scale-image.sh MILLIONS [OUT_DIR] [MKFS_OPTIONS]
#
# MILLIONS may be a fraction (0.25). The image is OUT_DIR/scale-<N>M.img (default OUT_DIR /work/bench/scale: big
# images stay out of the repository and out of any module's target/ that CI builds). Prints the image's path.
set -euo pipefail
millions=${1:?usage: $0 MILLIONS [OUT_DIR] [MKFS_OPTIONS]}
out=${2:-/work/bench/scale}
mkfs_opts=${3:-}   # for example "-m rmapbt=1"
per_dir=2000
files=$(awk -v m="$millions" 'BEGIN { printf "%d", m * 1000000 }')
dirs=$(( (files + per_dir - 1) / per_dir ))
mkdir -p "$out"
out=$(cd "$out" && pwd)
# the options name the image: "-m rmapbt=1" makes scale-1M-rmapbt=1.img
suffix=$(printf %s "$mkfs_opts" | sed 's/-m //g; s/[^a-zA-Z0-9=,]/_/g')
img="$out/scale-${millions}M${suffix:+-$suffix}.img"
: > "$out/empty"
# awk writes the protofile: a shell loop over 4 million lines takes minutes, awk seconds
awk -v files="$files" -v per="$per_dir" -v src="$out/empty" 'BEGIN {
    print "/dev/null"; print "0 0"; print "d--755 0 0"
    for (d = 0; d * per < files; d++) {
        printf " d%05d d--755 0 0\n", d
        n = files - d * per; if (n > per) n = per
        for (f = 0; f < n; f++) printf "  f%04d ---644 0 0 %s\n", f, src
        print " $"
    }
    print "$"
}' > "$out/protofile-${millions}M"
# 512-byte inodes: inode chunks take N/2 MiB... times 8 per million so that imaxpct=25 leaves room, at least 4 GiB
size_mb=$(awk -v f="$files" 'BEGIN { s = f * 512 * 8 / 1048576; if (s < 4096) s = 4096; printf "%d", s }')
rm -f "$img"
truncate -s "${size_mb}M" "$img"
start=$(date +%s.%N)
mkfs.xfs -q -f $mkfs_opts -p "$out/protofile-${millions}M" "$img"
end=$(date +%s.%N)
rm -f "$out/protofile-${millions}M"
echo "made $img: $files files in $dirs directories, ${size_mb} MiB, mkfs.xfs -p took $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s" >&2
echo "$img"
