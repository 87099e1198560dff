#!/usr/bin/env bash
# The main job: set the machine up, then execute every notebook with the cvnb runner.
# Writes executed notebooks to artifacts/executed, an HTML site to artifacts/site and
# JUnit XML to artifacts/notebooks-junit.xml. Extra arguments go to `cvnb execute`.
# Exit status: the runner's (0 all notebooks passed, 1 a notebook failed, 2 usage error).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash environment/setup.sh
exec dotnet run --project lib/CvNotebooks.Runner -c Release -- \
  execute notebooks \
  --output artifacts/executed \
  --html artifacts/site \
  --junit artifacts/notebooks-junit.xml \
  --jobs 2 \
  "$@"
