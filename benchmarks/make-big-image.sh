#!/usr/bin/env bash
# A large image for the comparison runs: 200,000 files in 400 directories (mkfs.xfs -p, no mounting).
set -euo pipefail
out=${1:-target/big}
files=${2:-200000}
mkfs_opts=${3:-}  # for example "-m rmapbt=1"
mkdir -p "$out"
src=$(cd "$out" && pwd)
printf 'x%.0s' $(seq 1 100) > "$src/small"
{
  echo "/dev/null"; echo "0 0"; echo "d--755 0 0"
  per=$(( files / 400 ))
  for d in $(seq 1 400); do
    echo " dir$d d--755 0 0"
    for f in $(seq 1 $per); do echo "  f$f ---644 0 0 $src/small"; done
    echo " \$"
  done
  echo "\$"
} > "$src/protofile"
truncate -s 8G "$src/big.img"
mkfs.xfs -q -f $mkfs_opts -p "$src/protofile" "$src/big.img"
echo "$src/big.img"
