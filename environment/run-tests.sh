#!/usr/bin/env bash
# The test job: set the machine up, build the solution in Release, run every test project, then
# execute every notebook under notebooks/ as a test (their Checks cells fail the run when a notebook
# stops teaching what it says).
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Runner").
# Ends with one line "Tests: N passed, N failed, N skipped" and the exit status of dotnet test.
# Projects that are not test projects (tests/CvNotebooks.Benchmarks) are built but not run:
# dotnet test only runs projects with IsTestProject=true (set by Microsoft.NET.Test.Sdk).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash environment/setup.sh
dotnet build CvNotebooks.sln -c Release --nologo

results=artifacts/test-results
rm -rf "$results"
set +e
dotnet test CvNotebooks.sln -c Release --no-build --nologo \
  --logger "console;verbosity=normal" \
  --logger "trx;LogFilePrefix=tests" \
  --results-directory "$results" \
  "$@"
rc=$?

# Every notebook is a test case too (nbmake-style): the runner writes JUnit, counted below.
dotnet run --project lib/CvNotebooks.Runner -c Release --no-build -- \
  execute notebooks --output artifacts/executed --html artifacts/site \
  --junit "$results/notebooks-junit.xml" --jobs 2
nbrc=$?
set -e

# One summary over all test projects, read from their TRX files (the console format differs
# between the classic and the terminal logger; the TRX counters do not).
passed=0 failed=0 skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters="$(grep -o '<Counters [^>]*>' "$trx" | awk 'NR == 1')"
  count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  total=$(count total) executed=$(count executed) p=$(count passed) f=$(count failed)
  e=$(count error) t=$(count timeout) a=$(count aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
if [[ -f "$results/notebooks-junit.xml" ]]; then
  suite="$(grep -o '<testsuites [^>]*>' "$results/notebooks-junit.xml" | awk 'NR == 1')"
  attr() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$suite"; }
  nt=$(attr tests) nf=$(attr failures) ne=$(attr errors) ns=$(attr skipped)
  passed=$((passed + ${nt:-0} - ${nf:-0} - ${ne:-0} - ${ns:-0}))
  failed=$((failed + ${nf:-0} + ${ne:-0}))
  skipped=$((skipped + ${ns:-0}))
elif ((nbrc != 0)); then
  failed=$((failed + 1))   # the runner could not even start: count it, never hide it
fi
echo "Tests: $passed passed, $failed failed, $skipped skipped"
if ((rc != 0)); then exit "$rc"; fi
exit "$nbrc"
