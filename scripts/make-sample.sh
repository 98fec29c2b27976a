#!/usr/bin/env bash
# Makes the sample XFS image of the main job without mounting anything: a small deterministic tree written
# into a sparse 512 MiB image by mkfs.xfs -p (xfsprogs). Prints the image path.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/sample}
mkfs=$(command -v mkfs.xfs || echo /usr/sbin/mkfs.xfs)
[ -x "$mkfs" ] || { echo "make-sample: mkfs.xfs not found: install xfsprogs (apt-get install xfsprogs)" >&2; exit 2; }
rm -rf "$out" && mkdir -p "$out/src"
src=$(cd "$out/src" && pwd)
head -c 100000 < <(yes "xfstage sample: a line of a text file") > "$src/notes.txt"
head -c 3000000 < <(yes "0123456789abcdef") > "$src/data.bin"
printf '#!/bin/sh\necho hello\n' > "$src/hello.sh"
{
  echo "/dev/null"
  echo "0 0"
  echo "d--755 0 0"
  echo " notes.txt ---644 0 0 $src/notes.txt"
  echo " data.bin ---600 0 0 $src/data.bin"
  echo " bin d--755 0 0"
  echo "  hello.sh ---755 0 0 $src/hello.sh"
  echo "  hi l--777 0 0 hello.sh"
  echo " $"
  echo " many d--755 0 0"
  for i in $(seq -w 1 200); do echo "  file-$i ---644 0 0 $src/hello.sh"; done
  echo " $"
  echo "$"
} > "$src/protofile"
img="$out/sample.img"
truncate -s 512M "$img"
"$mkfs" -q -f -p "$src/protofile" "$img"
echo "$(cd "$out" && pwd)/sample.img"
