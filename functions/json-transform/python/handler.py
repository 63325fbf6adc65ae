"""json-transform (docs/design.md §5.7, functions/testdata/README.md) for the Python runtime."""
import json
import math
import re
from decimal import Decimal

from nanofaas_runtime import InvalidInputError

_OPERATIONS = frozenset(("count", "sum", "avg", "min", "max"))
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_SAFE = 2.0**53


def handle(input):
    if not isinstance(input, dict):
        raise InvalidInputError("input must be an object {data, groupBy, operation?, valueField?}")
    data = input.get("data")
    if not isinstance(data, list):
        raise InvalidInputError('"data" must be an array of objects')
    group_by = input.get("groupBy")
    if not isinstance(group_by, str):
        raise InvalidInputError('"groupBy" must be a string')
    operation = input.get("operation")
    if operation is None:
        operation = "count"
    elif not isinstance(operation, str) or operation not in _OPERATIONS:
        raise InvalidInputError(f'"operation" must be one of count, sum, avg, min, max; got {operation!r}')
    value_field = input.get("valueField")
    if value_field is not None and not isinstance(value_field, str):
        raise InvalidInputError('"valueField" must be a string')
    if value_field is None and operation != "count":
        raise InvalidInputError(f'"valueField" is required for operation {operation}')

    # key -> [count, sum, min, max]; dicts keep first-seen order.
    groups = {}
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise InvalidInputError(f"data[{index}] must be an object")
        key = group_key(record.get(group_by))
        group = groups.get(key)
        if group is None:
            group = groups[key] = [0, 0.0, math.inf, -math.inf]
        if value_field is None:
            group[0] += 1
            continue
        value = record.get(value_field)
        kind = type(value)
        if kind is int or kind is float:  # type(), not isinstance: True/False are ints in Python
            value = _double(value)
            group[0] += 1
            group[1] += value  # left to right in IEEE doubles, like JavaScript
            if value < group[2]:
                group[2] = value
            if value > group[3]:
                group[3] = value

    return {"groupBy": group_by, "operation": operation, "groups": {k: _result(g, operation) for k, g in groups.items()}}


def _result(group, operation):
    count = group[0]
    if operation == "count":
        return count
    if count == 0:
        return None
    if operation == "sum":
        return _number(group[1])
    if operation == "avg":
        return _number(group[1] / count)
    return _number(group[2] if operation == "min" else group[3])


def _number(value):
    """Whole values go out as integers (80000, not 80000.0), like JavaScript's JSON."""
    return int(value) if value.is_integer() and abs(value) < _MAX_SAFE else value


def _double(value):
    """The IEEE double JavaScript would hold for this JSON number (Python ints are unbounded)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def group_key(value):
    """String(value) as JavaScript writes it; compact JSON.stringify for objects and arrays."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return js_number(_double(value))
    return js_json(value)


def js_number(x):
    """ECMAScript Number::toString: shortest round-trip digits, plain between 1e-6 and 1e21."""
    if x != x:
        return "NaN"
    if x == 0:
        return "0"  # also -0
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x < 0:
        return "-" + js_number(-x)
    # repr() gives the shortest digits that read back as x; Decimal splits them from the exponent.
    sign, digit_tuple, exponent = Decimal(repr(x)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = k + exponent  # x = 0.digits × 10**n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"


def js_json(value):
    """JSON.stringify: compact, keys in input order, JavaScript numbers and string escapes."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        # JSON.stringify writes a lone surrogate as a \\u escape; surrogate pairs were already joined.
        return _LONE_SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), text)
    if isinstance(value, (int, float)):
        number = _double(value)
        return js_number(number) if math.isfinite(number) else "null"
    if isinstance(value, list):
        return "[" + ",".join(js_json(item) for item in value) + "]"
    return "{" + ",".join(js_json(str(k)) + ":" + js_json(v) for k, v in value.items()) + "}"
