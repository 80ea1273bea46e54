"""spec/command.py: which compiled programs a warm interpreter may run (issue 22), and how a task starts."""

from __future__ import annotations

from spec.command import PythonPlan, executor_program, start_mode

# The program after the pip preamble, as kfp 2.17 compiles it (and kfp 2.4, without `_KFP_RUNTIME=true`).
SCRIPT = (
    'program_path=$(mktemp -d)\n\nprintf "%s" "$0" > "$program_path/ephemeral_component.py"\n'
    "_KFP_RUNTIME=true python3 -m kfp.dsl.executor_main                         --component_module_path"
    '                         "$program_path/ephemeral_component.py"                         "$@"\n'
)
OLD_SCRIPT = SCRIPT.replace("_KFP_RUNTIME=true ", "")
ARGS = ("--executor_input", "{}", "--function_to_execute", "f")


def test_the_sdks_executor_script_is_read_as_its_module_and_arguments() -> None:
    program = executor_program(("sh", "-ec", SCRIPT, "def f(): ...", *ARGS))

    assert program is not None
    assert (program.source, program.args, program.runtime_flag) == ("def f(): ...", ARGS, True)


def test_an_older_script_without_the_runtime_flag_is_read_too() -> None:
    program = executor_program(("sh", "-ec", OLD_SCRIPT, "source", *ARGS))

    assert program is not None and not program.runtime_flag


def test_any_other_program_is_not_an_executor_program() -> None:
    assert executor_program(("sh", "-ec", SCRIPT + "echo more\n", "source")) is None
    assert executor_program(("sh", "-c", SCRIPT, "source")) is None
    assert executor_program(("python3", "-m", "kfp.dsl.executor_main")) is None
    assert executor_program(("sh", "-ec", SCRIPT)) is None


def test_a_task_starts_warm_unless_cold_start_or_not_the_executor_script() -> None:
    plan = PythonPlan(installs=(("kfp==2.17.3",),), program=("sh", "-ec", SCRIPT, "source", *ARGS))
    other = PythonPlan(installs=(), program=("python3", "main.py"))

    assert start_mode(plan, cold_start=False) == "warm"
    assert start_mode(plan, cold_start=True) == "cold (--cold-start)"
    assert start_mode(None, cold_start=False) == "cold (not a lightweight Python component)"
    assert start_mode(other, cold_start=False).startswith("cold (its program")
