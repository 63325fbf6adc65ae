# word-stats for the watchdog's STDIO mode, run as one gojq process per call and nothing else:
#   gojq -c -f functions/word-stats/exec/handler.jq
# The input JSON on stdin, the output JSON on stdout; exit 65 (reason on stderr) when the input is
# rejected. Rules: functions/testdata/README.md. gojq starts in about a third of jq 1.6's time, and
# without bash in front there is one process start per call, not two (BENCHMARKS.md, bench:exec).
# gojq's regexps are Go's (RE2): \p{L} and \p{N} are the same Unicode classes as Oniguruma's.
def reject(why): ("invalid input: " + why + "\n") | halt_error(65);
(if type == "string" then {text: .}
 elif type == "object" then .
 else reject("input must be an object {text, topN?} or a string") end) as $in
| ($in.text | if type == "string" then . else reject("text must be a string") end) as $text
| ($in.topN
   | if . == null then 10
     elif type == "number" and . >= 0 and . == floor then .
     else reject("topN must be a whole number >= 0") end) as $topN
# Words: runs of Unicode letters and digits; only ASCII A-Z are lower-cased (ascii_downcase).
| [$text | scan("[\\p{L}\\p{N}]+") | ascii_downcase] as $words
| ($words | length) as $count
| if $count == 0 then reject("text contains no words (letters or digits)") else . end
| ($words | map(length) | add) as $codePoints
| (reduce $words[] as $w ({}; .[$w] += 1)) as $counts
| {
    wordCount: $count,
    uniqueWords: ($counts | length),
    # jq compares strings by UTF-8 bytes, which is code point order.
    topWords: ($counts | to_entries | map({word: .key, count: .value}) | sort_by(-.count, .word) | .[:$topN]),
    averageWordLength: (((200 * $codePoints + $count) / (2 * $count) | floor) / 100)
  }
