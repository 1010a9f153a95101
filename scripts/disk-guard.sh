#!/usr/bin/env bash
# Makes room for a build in the build directory ($CARGO_TARGET_DIR) when its disk runs short.
# The directory lives outside the clone so that CI reuses earlier builds; what accumulates there
# (incremental caches, test binaries of earlier revisions) once filled a CI machine's disk
# halfway through the tests. Below the floor, the incremental caches go first, then the whole
# build (one cold build: about 8 minutes on two cores, 6 GB for the tests).
# Usage: scripts/disk-guard.sh [floor in GiB, default 15]
set -euo pipefail
target="${CARGO_TARGET_DIR:?CARGO_TARGET_DIR doit être défini}"
floor_gib="${1:-15}"
mkdir -p "$target"

free_gib() { df -P -k "$target" | awk 'NR == 2 { print int($4 / 1048576) }'; }

free="$(free_gib)"
if [ "$free" -ge "$floor_gib" ]; then
  echo "place disque : ${free} Gio libres sous $target"
  exit 0
fi
echo "place disque : ${free} Gio libres sous $target (plancher ${floor_gib} Gio) : caches incrémentaux effacés"
rm -rf "$target"/debug/incremental "$target"/release/incremental
free="$(free_gib)"
if [ "$free" -lt "$floor_gib" ]; then
  echo "place disque : encore ${free} Gio : constructions précédentes effacées (reconstruction complète)"
  rm -rf "$target"/debug "$target"/release
  free="$(free_gib)"
fi
echo "place disque : ${free} Gio libres"
if [ "$free" -lt 8 ]; then
  echo "place disque insuffisante pour construire et tester (${free} Gio libres, il en faut au moins 8)" >&2
  exit 1
fi
