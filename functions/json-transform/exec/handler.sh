#!/usr/bin/env bash
# json-transform for the watchdog's STDIO mode: the input JSON on stdin, the output JSON on stdout,
# exit 65 (reason on stderr) when the input is rejected. `exec` leaves exactly one jq process per call.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
exec jq -c -L "$here" 'include "transform";
  try transform
  catch (if type == "object" and .error == "INVALID_INPUT" then (.message + "\n") | halt_error(65) else error end)'
