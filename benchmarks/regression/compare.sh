#!/usr/bin/env bash
# compare.sh BASE NEW: byte comparison of every output, history wall times removed.
base=$1; new=$2
strip() { sed -E 's/"(seconds|wall_seconds|elapsed|time|duration|epoch_seconds|wall_s)": *[0-9.eE+-]+/"\1": X/g; s/[0-9.]+ s\b/X s/g; s/"?date"?: "[0-9TZ:-]+"/date: X/g' "$1"; }
status=0
for f in $(cd "$base" && find . -type f | sort); do
  if [[ ! -f $new/$f ]]; then echo "MISSING $f"; status=1; continue; fi
  if ! cmp -s "$base/$f" "$new/$f"; then
    if diff -q <(strip "$base/$f") <(strip "$new/$f") >/dev/null; then continue; fi
    echo "DIFF $f"; status=1
  fi
done
for f in $(cd "$new" && find . -type f | sort); do [[ -f $base/$f ]] || echo "EXTRA $f"; done
exit $status
