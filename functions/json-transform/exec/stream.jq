# STREAM-mode json-transform: run as `jq --unbuffered -c -L functions/json-transform/exec -f stream.jq`
# under the watchdog with EXECUTION_MODE=STREAM. One input line in, one output line out; a rejected
# input becomes an error line (the watchdog turns it into 400 INVALID_INPUT) and the process lives on.
include "transform";
try transform
catch (if type == "object" and .error == "INVALID_INPUT" then . else {error: "FUNCTION_ERROR", message: tostring} end)
