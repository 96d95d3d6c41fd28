# lib.sh: helpers for the shell tests.  Source it; set CORA first.
set -uo pipefail

TMP=$(mktemp -d /tmp/cora-cli-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

fail() {
  echo "FAIL: $*" >&2
  failed=$((failed + 1))
}

ok() {
  passed=$((passed + 1))
}

# expect_error PATTERN COMMAND...: the command must exit 1 (2 for a usage
# error caught before the catalog is touched), print
# exactly one line on stderr that starts with "cora: " and matches the
# pattern, and leave the log as it was.
expect_error() {
  local pattern=$1
  shift
  local before after rc=0 err lines
  before=$("$CORA" -C "$CAT" log --json | wc -l)
  "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  err=$(cat "$TMP/err")
  lines=$(wc -l <"$TMP/err")
  after=$("$CORA" -C "$CAT" log --json | wc -l)
  if [ "$rc" != 1 ] && [ "$rc" != 2 ]; then
    fail "$* exited $rc, wanted 1 (or 2 for a usage error) (stderr: $err)"
  elif [ "$lines" != 1 ]; then
    fail "$* printed $lines lines on stderr: $err"
  elif ! grep -q "^cora: " "$TMP/err"; then
    fail "$* message does not start with 'cora: ': $err"
  elif ! grep -qE -- "$pattern" "$TMP/err"; then
    fail "$* message '$err' does not match '$pattern'"
  elif [ "$before" != "$after" ]; then
    fail "$* changed the log ($before -> $after events)"
  else
    ok
  fi
}

# expect_ok COMMAND...: exit 0.
expect_ok() {
  if "$@" >"$TMP/out" 2>"$TMP/err"; then
    ok
  else
    fail "$* failed: $(cat "$TMP/err")"
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}
