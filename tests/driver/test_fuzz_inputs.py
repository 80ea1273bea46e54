"""Generated malformed pipeline files and parameter files are refused, never crash (issue 15): exit 2, each
line of stderr an `error:` line (a parameter or option problem is exactly one line; a spec validation lists
one line per problem), no traceback, nothing recorded.

Each example mutates the compiled tests/pipelines/hostile_base.py (a node replaced by a random JSON value,
deleted, renamed to a hostile key, nested deeply; the text truncated or spliced; written as JSON or YAML)
or writes a random parameters file, then goes through the driver's own entry (`driver.__main__._main`) in
this process, which refuses before anything starts. A mutation that leaves a valid pipeline is checked only
for not crashing while it is prepared, and is not run. Bounded: a fixed number of examples, no deadline per
example (the machine is shared), about ten seconds in all.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from driver.__main__ import _main, _parser
from driver.run.run import RunOptions, prepare_run
from spec.errors import LplError
from tests.e2e.finished_run import CompilePipeline

EXAMPLES = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

HOSTILE_KEYS = [
    "", ".", "..", "../../escape", "a/b", "back\\slash", "nul\0", "k" * 300, "é" * 150, "$", "line\nbreak"
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(HOSTILE_KEYS),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=6) | st.sampled_from(HOSTILE_KEYS), children, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def base(compile_pipeline: CompilePipeline) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(compile_pipeline("hostile_base").read_text())
    return loaded


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _mutate(data: st.DataObject, document: Any) -> Any:
    """`document` with one node (chosen by walking down from the top) replaced, deleted, renamed or nested."""
    if not isinstance(document, dict | list) or not document:
        return data.draw(json_values)
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = data.draw(st.sampled_from(keys))
    if data.draw(st.booleans()):  # go deeper
        copy = dict(document) if isinstance(document, dict) else list(document)
        copy[key] = _mutate(data, document[key])  # type: ignore[index]
        return copy
    operation = data.draw(st.sampled_from(["replace", "delete", "rename", "nest"]))
    copy = dict(document) if isinstance(document, dict) else list(document)
    if operation == "replace":
        copy[key] = data.draw(json_values)  # type: ignore[index]
    elif operation == "delete":
        del copy[key]  # type: ignore[arg-type]
    elif operation == "rename" and isinstance(copy, dict):
        copy[data.draw(st.sampled_from(HOSTILE_KEYS))] = copy.pop(key)
    else:
        nested: Any = document[key]
        for _ in range(data.draw(st.sampled_from([3, 120, 2000]))):
            nested = [nested]
        copy[key] = nested  # type: ignore[index]
    return copy


def _render(data: st.DataObject, document: Any) -> tuple[str, str]:
    """The document as file text, and its suffix; sometimes damaged as text."""
    suffix = data.draw(st.sampled_from([".json", ".yaml"]))
    try:
        text = json.dumps(document) if suffix == ".json" else yaml.safe_dump(document)
    except (RecursionError, ValueError):
        text = "[" * 5000
    damage = data.draw(st.sampled_from(["none", "none", "truncate", "splice", "duplicate"]))
    if damage == "truncate":
        text = text[: data.draw(st.integers(min_value=0, max_value=len(text)))]
    elif damage == "splice":
        at = data.draw(st.integers(min_value=0, max_value=len(text)))
        spliced = data.draw(st.sampled_from(["{", "]", "&a [*a, *a]", "\x00", ": :", "NaN", "'"]))
        text = text[:at] + spliced + text[at:]
    elif damage == "duplicate" and suffix == ".yaml":
        text = text + text.splitlines()[0] + "\n"
    return text, suffix


def _refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]] | None:
    """Exit status and stderr lines of the driver refusing `argv`; None when the input is accepted."""
    args = _parser().parse_args(argv)
    options = RunOptions(
        pipeline=args.pipeline, home=args.home, params=args.param, params_file=args.params_file
    )
    try:
        prepare_run(options)  # checks only: nothing is written, nothing starts
    except LplError:
        pass
    else:
        return None
    capsys.readouterr()
    status = _main(args, early=None)
    return status, capsys.readouterr().err.splitlines()


def _assert_refused(refusal: tuple[int, list[str]], *, home: Path) -> None:
    status, lines = refusal
    assert status == 2, lines
    assert lines and all(line.startswith("error: ") for line in lines), lines
    assert not any("Traceback" in line for line in lines)
    assert not (home / "ledger").exists()


@EXAMPLES
@given(data=st.data())
def test_a_malformed_pipeline_file_is_refused_with_error_lines(
    data: st.DataObject, base: dict[str, Any], workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, suffix = _render(data, _mutate(data, base))
    spec = workdir / f"{uuid.uuid4().hex}{suffix}"
    spec.write_text(text, errors="surrogatepass")
    home = workdir / "home"

    refusal = _refusal([str(spec), "--home", str(home)], capsys)

    event("accepted" if refusal is None else "refused")
    if refusal is not None:
        _assert_refused(refusal, home=home)


params_values = st.dictionaries(st.sampled_from(["rate", "config", "other"]), json_values, max_size=3)


@EXAMPLES
@given(
    params=params_values,
    form=st.sampled_from(["json", "nan", "truncated", "deep", "duplicate", "not-an-object"]),
)
def test_a_malformed_parameters_file_is_refused_with_one_line(
    params: dict[str, Any],
    form: str,
    compile_pipeline: CompilePipeline,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = json.dumps(params)  # allow_nan: NaN and Infinity tokens appear as a careless writer leaves them
    text = {
        "json": text,
        "nan": text[:-1] + (', "rate": NaN}' if params else '"rate": NaN}'),
        "truncated": text[: len(text) // 2],
        "deep": '{"config": ' + "[" * 3000 + "]" * 3000 + "}",
        "duplicate": '{"rate": 1, "rate": 2}',
        "not-an-object": json.dumps(list(params)),
    }[form]
    params_file = workdir / f"{uuid.uuid4().hex}.json"
    params_file.write_text(text)
    home = workdir / "home"
    argv = [str(compile_pipeline("hostile_base")), "--home", str(home), "--params-file", str(params_file)]

    refusal = _refusal(argv, capsys)

    event("accepted" if refusal is None else "refused")
    if refusal is not None:
        _assert_refused(refusal, home=home)
        assert len(refusal[1]) == 1, refusal[1]  # a parameters problem is one line


def test_the_generator_makes_refusals_not_only_accepted_files(
    base: dict[str, Any], workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The properties above hold vacuously if every example is accepted: a fixed refusal, checked the same way
    # (and `--hypothesis-show-statistics` shows how many examples were refused).
    spec = workdir / "renamed.json"
    tasks = base["root"]["dag"]["tasks"]
    spec.write_text(json.dumps({**base, "root": {**base["root"], "dag": {**base["root"]["dag"], "tasks": {
        "../escape": tasks["produce"]}}}}))

    refusal = _refusal([str(spec), "--home", str(workdir / "home")], capsys)

    assert refusal is not None
    _assert_refused(refusal, home=workdir / "home")


cli_texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["1e999", "nan", "-inf", "NaN", "[" * 100_000, "{" * 5000, '{"a": 1, "a": 2}', ""]),
    json_values.map(json.dumps),
)


@EXAMPLES
@given(name=st.sampled_from(["rate", "config", "unknown", ""]), text=cli_texts)
def test_a_malformed_parameter_option_is_refused_with_one_line(
    name: str, text: str, compile_pipeline: CompilePipeline, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = workdir / "home"
    argv = [str(compile_pipeline("hostile_base")), "--home", str(home), "-p", f"{name}={text}"]

    refusal = _refusal(argv, capsys)

    event("accepted" if refusal is None else "refused")
    if refusal is not None:
        _assert_refused(refusal, home=home)
        assert len(refusal[1]) == 1, refusal[1]


def test_a_key_with_a_line_break_is_refused_in_one_line(
    base: dict[str, Any], workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(json.dumps(base))
    executors = document["deploymentSpec"]["executors"]
    executors["exec\nbroken"] = executors.pop(next(iter(executors)))
    spec = workdir / "line-break.json"
    spec.write_text(json.dumps(document))
    home = workdir / "line-break-home"
    refusal = _refusal([str(spec), "--home", str(home)], capsys)
    assert refusal is not None
    _assert_refused(refusal, home=home)
    assert len(refusal[1]) == 1, refusal
