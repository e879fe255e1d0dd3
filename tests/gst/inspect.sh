#!/bin/sh
# Every element of the plugin documents itself in gst-inspect: a runnable
# example line, a pointer to its manual, and a description for each property.
set -eu
status=0
for element in "$@"; do
  out=$(gst-inspect-1.0 "$element") || { echo "$element: not found"; status=1; continue; }
  for key in Example Doc-uri Description; do
    echo "$out" | grep -q "^  $key " || { echo "$element: no '$key' in gst-inspect"; status=1; }
  done
  # a property line is "  name  : blurb"; an empty blurb leaves nothing after the colon
  if echo "$out" | grep -E '^  [a-z][a-z0-9-]* +:\s*$'; then
    echo "$element: a property has no description"; status=1
  fi
done
exit $status
