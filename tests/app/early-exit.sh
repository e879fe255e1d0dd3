#!/bin/sh
# early-exit.sh SOURCE_DIR BINARY ARGS...: BINARY must refuse ARGS with
# status 2, and free what it allocated: under valgrind (when installed and
# the build is not sanitized) a definite leak gives status 42.
src=$1
shift
wrap=""
if [ -z "${ASAN_OPTIONS:-}" ] && command -v valgrind >/dev/null 2>&1; then
  wrap="valgrind -q --leak-check=full --show-leak-kinds=definite
    --errors-for-leak-kinds=definite --error-exitcode=42
    --suppressions=$src/tests/valgrind.supp"
  # not GLib's glib.supp: it hides every g_build_filename leak
fi
log=$(mktemp)
$wrap "$@" --port 0 >/dev/null 2>"$log" </dev/null
status=$?
if [ "$status" != 2 ]; then
  echo "expected exit status 2, got $status: $*" >&2
  tail -n 60 "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
