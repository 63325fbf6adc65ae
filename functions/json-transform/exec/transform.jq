# json-transform as a jq module (rules: functions/testdata/README.md), shared by handler.jq (STDIO,
# gojq) and stream.jq (STREAM, jq). A rejected input raises error({error: "INVALID_INPUT", message});
# each caller turns that into its mode's signal (exit 65, or an error line).
# gojq sorts an object's keys when it prints it, so `transform_ordered` gives the groups as
# [key, value] pairs in first-seen order and handler.jq writes the JSON text itself;
# `transform` is the plain object, for jq, which keeps insertion order.

def reject(why): error({error: "INVALID_INPUT", message: ("invalid input: " + why)});

# JavaScript String(n): jq prints the same shortest digits but lays them out like C's %.17g
# ("1e-07", "1e+20", "-0"), so re-lay exponent forms the way ECMAScript Number::toString does.
def zeros(n): if n > 0 then [range(n) | "0"] | add else "" end;
def jsnum:
  if . == 0 then "0"
  else tostring as $s
  | if ($s | test("e") | not) then $s
    else ($s | capture("^(?<sign>-?)(?<int>[0-9])(\\.(?<frac>[0-9]+))?e(?<exp>[-+][0-9]+)$")) as $m
    | ($m.int + ($m.frac // "")) as $digits
    | ($digits | length) as $k
    | (($m.exp | ltrimstr("+") | tonumber) + 1) as $n
    | $m.sign + (
        if $k <= $n and $n <= 21 then $digits + zeros($n - $k)
        elif 0 < $n and $n <= 21 then $digits[:$n] + "." + $digits[$n:]
        elif -6 < $n and $n <= 0 then "0." + zeros(-$n) + $digits
        else $digits[:1] + (if $k > 1 then "." + $digits[1:] else "" end)
          + "e" + (if $n - 1 >= 0 then "+" else "-" end) + (($n - 1) | fabs | tostring)
        end)
    end
  end;

def groupkey:
  if . == null then "null"
  elif type == "string" then .
  elif type == "number" then jsnum
  elif type == "boolean" then tostring
  else tojson end;

def transform_ordered:
  if type == "object" then . else reject("input must be an object {data, groupBy, operation?, valueField?}") end
  | (.data | if type == "array" then . else reject("data must be an array of objects") end) as $data
  | if ($data | all(type == "object")) then . else reject("every element of data must be an object") end
  | (.groupBy | if type == "string" then . else reject("groupBy must be a string (a field name)") end) as $g
  | (.operation | if . == null then "count" else . end) as $op
  | if ($op | type == "string") and (["count", "sum", "avg", "min", "max"] | index([$op])) then .
    else reject("operation must be one of count, sum, avg, min, max") end
  | (.valueField
     | if . == null then (if $op == "count" then null else reject("valueField is required for operation \($op)") end)
       elif type == "string" then .
       else reject("valueField must be a string") end) as $vf
  | (reduce $data[] as $r ({order: [], groups: {}};
       ($r[$g] | groupkey) as $key
       | ($r | if $vf == null then null else .[$vf] end) as $v
       | if .groups | has($key) then . else .order += [$key] end
       | .groups[$key] |= ((. // {records: 0, numeric: 0, sum: 0, min: null, max: null})
           | .records += 1
           | if ($v | type) == "number" then
               .numeric += 1 | .sum += $v
               | .min = (if .min == null or $v < .min then $v else .min end)
               | .max = (if .max == null or $v > .max then $v else .max end)
             else . end))) as $acc
  | {groupBy: $g, operation: $op, groups: [$acc.order[] as $key | $acc.groups[$key] | [$key,
      if $op == "count" then (if $vf == null then .records else .numeric end)
      elif .numeric == 0 then null
      elif $op == "sum" then .sum
      elif $op == "avg" then .sum / .numeric
      elif $op == "min" then .min
      else .max end]]};

def transform: transform_ordered | .groups |= (map({key: .[0], value: .[1]}) | from_entries);
