#!/usr/bin/env bash
# After a failed ctest run: the lines that say why each failed test failed (GoogleTest's failure
# messages, the fault campaign's violations and aborted round; for a test that printed none of
# those, its last 8 lines), at most 25 lines a test, each cut to 400 characters. ctest prints a
# failed test's output when it ends, in the middle of the run; a log read from its end (CI's) then
# shows only the list of names. This puts the reasons last.
# usage: scripts/failed-tests-digest.sh BUILD_DIR
set -euo pipefail
LOG="${1:?usage: failed-tests-digest.sh BUILD_DIR}/Testing/Temporary/LastTest.log"
[ -f "$LOG" ] || { echo "no $LOG"; exit 0; }
echo
echo "=== why the failed tests failed (from $LOG)"
awk '
  /^[0-9]+\/[0-9]+ Test: / { name = $0; sub(/^[0-9]+\/[0-9]+ Test: /, "", name); n = 0; after = 0; next }
  /^<end of output>$/ { ended = 1; next }
  /^Test time = / { took = $0; sub(/^Test time = +/, "", took); next }
  /^Test Failed/ {
    print "--- " name " (ran " took ")"
    for (i = 1; i <= n; i++) print kept[i]
    if (n == 0) {  # a script, a timeout or a crash: where its output ended
      print "    (no failure message; its output ended with:)"
      for (i = (lines > 8 ? lines - 7 : 1); i <= lines; i++) print "    " substr(last[i % 8], 1, 400)
    }
    next
  }
  /^Output:$/ { ended = 0; n = 0; lines = 0; rule = 1; next }
  rule && /^-+$/ { rule = 0; next }
  {
    if (ended) next
    last[++lines % 8] = $0
    keep = after > 0 || /: Failure$/ || /VIOLATION/ || /aborted: / || /-- FAILED: / || /^violations: / || /Timeout|timed out|Segmentation|Abort|Sanitizer/
    if (/: Failure$/) after = 5
    if (keep && n < 25) kept[++n] = "    " substr($0, 1, 400)
    if (after > 0) after--
  }
' "$LOG"
