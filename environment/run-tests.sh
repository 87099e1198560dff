#!/usr/bin/env bash
# The test job: set the machine up, build the solution in Release, run every test project.
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
set -e

# One summary over all test projects, read from their TRX files (the console format differs
# between the classic and the terminal logger; the TRX counters do not).
passed=0 failed=0 skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n1)"
  count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  total=$(count total) executed=$(count executed) p=$(count passed) f=$(count failed)
  e=$(count error) t=$(count timeout) a=$(count aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit "$rc"
