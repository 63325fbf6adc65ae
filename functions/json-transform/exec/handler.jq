# json-transform for the watchdog's STDIO mode, run as one gojq process per call and nothing else:
#   gojq -c -r -L functions/json-transform/exec -f functions/json-transform/exec/handler.jq
# The input JSON on stdin, the output JSON on stdout; exit 65 (reason on stderr) when the input is
# rejected. gojq starts in about a third of jq 1.6's time, and without bash in front there is one
# process start per call, not two (BENCHMARKS.md, bench:exec).
# gojq prints object keys sorted, so the answer is written as JSON text (-r) to keep the groups in
# first-seen order. Known difference from the rules: a group key made from an object value has
# its keys sorted, not in input order (gojq does not keep input key order; no vector covers it).
include "transform";
try (transform_ordered
  | "{\"groupBy\":\(.groupBy | tojson),\"operation\":\(.operation | tojson),\"groups\":{"
    + (.groups | map("\(.[0] | tojson):\(.[1] | tojson)") | join(",")) + "}}")
catch (if type == "object" and .error == "INVALID_INPUT" then (.message + "\n") | halt_error(65) else error end)
