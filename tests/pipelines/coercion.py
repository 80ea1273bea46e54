"""Covers: the backend's coercion of non-string values into STRING inputs (3 -> "3", true -> "true", JSON).

The SDK refuses an int argument for a str input when the pipeline is defined (and `kfp.TYPE_CHECK` no longer
switches that off), so this pipeline is defined with the SDK's argument check patched out. The compiled spec
then asks the driver to do what the KFP backend does (`handleParamTypeValidationAndConversion`): format a
number with `FormatFloat('f', -1)`, a bool as `true`/`false` and a dict or list as compact JSON. `show_text`
raises unless it receives exactly that string.
"""

from unittest import mock

from kfp import dsl
from kfp.dsl.types import type_utils


@dsl.component(base_image="python:3.11")
def show_text(text: str, expected: str):
    print(f"text={text!r}")
    if type(text) is not str or text != expected:
        raise ValueError(f"expected {expected!r}, got {text!r} ({type(text).__name__})")


@dsl.component(base_image="python:3.11")
def make_number() -> int:
    return 7


with mock.patch.object(type_utils, "verify_type_compatibility", return_value=True):

    @dsl.pipeline(name="coercion")
    def pipeline(count: int = 3, ratio: float = 2.5, flag: bool = True, config: dict = {"a": 1, "b": [2]}):
        show_text(text=count, expected="3").set_display_name("int-to-str")
        show_text(text=ratio, expected="2.5").set_display_name("float-to-str")
        show_text(text=flag, expected="true").set_display_name("bool-to-str")
        show_text(text=config, expected='{"a":1,"b":[2]}').set_display_name("dict-to-str")
        show_text(text=make_number().output, expected="7").set_display_name("output-int-to-str")
