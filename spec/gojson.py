"""How the backend's Go code writes numbers and JSON: `strconv.FormatFloat`, `encoding/json`'s floats and
escapes. Used by the value conversions (spec/values.py) and by protojson rendering (spec/protojson.py)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from spec.errors import ValueConversionError

# Whole numbers below this are exact in a double, so writing them as `int` loses nothing.
_EXACT_INT_LIMIT = 2**53


_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def number_to_python(number: float) -> int | float:
    # -0.0 stays a float so that its sign survives, as Go keeps it.
    negative_zero = number == 0 and math.copysign(1.0, number) < 0
    if number.is_integer() and abs(number) < _EXACT_INT_LIMIT and not negative_zero:
        return int(number)
    return number


def encode_json(obj: Any, *, sort_keys: bool, escape_html: bool) -> str:
    """Compact JSON as Go writes it; `json.dumps` cannot be told how to format floats."""
    if obj is None or isinstance(obj, bool):
        return {None: "null", True: "true", False: "false"}[obj]
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        return format_float_json(obj)
    if isinstance(obj, str):
        return _encode_string(obj, escape_html=escape_html)
    options = {"sort_keys": sort_keys, "escape_html": escape_html}
    if isinstance(obj, list):
        return "[" + ",".join(encode_json(item, **options) for item in obj) + "]"
    if isinstance(obj, dict):
        items = sorted(obj.items()) if sort_keys else obj.items()
        members = (
            _encode_string(key, escape_html=escape_html) + ":" + encode_json(item, **options)
            for key, item in items
        )
        return "{" + ",".join(members) + "}"
    raise ValueConversionError(f"cannot write a {type(obj).__name__} as JSON")


def _encode_string(text: str, *, escape_html: bool) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    if escape_html:  # Go's json.Marshal escapes these; protojson does not
        for char, escape in _HTML_ESCAPES.items():
            encoded = encoded.replace(char, escape)
    return encoded


def format_float_f(number: float) -> str:
    """Go `strconv.FormatFloat(number, 'f', -1, 64)`: the shortest round-tripping digits, no exponent."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    # repr() gives the shortest round-tripping digits; Decimal re-spells them without an exponent.
    return format(Decimal(repr(number)).normalize(), "f")


def format_float_json(number: float) -> str:
    """A JSON number as Go's encoding/json and protojson write a float64."""
    if not math.isfinite(number):
        raise ValueConversionError(f"{number} cannot be written as a JSON number")
    magnitude = abs(number)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        return format_float_e(number)
    return format_float_f(number)


def format_float_e(number: float) -> str:
    """Go's shortest 'e' format, with the exponent's leading zero dropped as encoding/json does (1e-7)."""
    sign, digits, exponent = Decimal(repr(number)).normalize().as_tuple()
    assert isinstance(exponent, int)  # finite numbers only; checked by the caller
    text = "".join(str(digit) for digit in digits)
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    power = exponent + len(text) - 1
    return ("-" if sign else "") + mantissa + (f"e+{power:02d}" if power >= 0 else f"e-{-power}")
