"""A warm start (issue 22, design decision 11) shows a component nothing a fresh process would not, and its
launcher owns it as it owns a cold one: tests/pipelines/warm_hazards.py run warm (the default) and with
`--cold-start`, compared; tests/pipelines/warm_hold.py stopped and killed while it holds.

A warm-started component's parent is its *keeper*, a per-attempt process of the environment's warm
interpreter that stands where the cold start's `sh -ec` stands (session and group leader, parent, reaper of
what the component leaves behind): `parent_comm` is the one fact that tells the two starts apart."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.model import CANCELED, COMPLETE, FAILED, Execution
from ledger.store import Ledger
from tests.cli import run_cli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver
from tests.processes import (
    TOKEN_VARIABLE,
    alive,
    driver_in_background,
    gone_within,
    kill_leftovers,
    leftovers,
)

GRACE = 5.0  # launcher.warm.client.KILL_GRACE_SECONDS
TMPDIR = "/tmp/lpl-warm-hazards-tmpdir"  # tests/pipelines/warm_hazards.py
WARM_MARKER = b"lpl-warm-server"


@pytest.fixture(scope="module")
def hazards(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The hazards pipeline run warm and cold: mode -> (run, marker, leftovers token)."""
    os.makedirs(TMPDIR, exist_ok=True)
    runs: dict[str, Any] = {}
    for mode, options in (("warm", []), ("cold", ["--cold-start"])):
        root = tmp_path_factory.mktemp(f"hazards-{mode}")
        marker, token = root / "marker", f"warm-{uuid.uuid4().hex}"
        run = run_driver(compile_pipeline("warm_hazards"), "-p", f"marker={marker}", *options,
                         home=root / "home", env={TOKEN_VARIABLE: token})
        runs[mode] = (run, marker, token)
    yield runs
    for _, _, token in runs.values():
        kill_leftovers(token)


def _facts(run: FinishedRun) -> dict[str, Any]:
    facts = dict(run.probe("facts"))
    facts.pop("_label")
    # The executor input names the run's own directories.
    facts["argv_rest"] = [arg for arg in facts["argv_rest"] if not arg.startswith("{")]
    return facts


def test_the_warm_run_forked_its_components_and_the_cold_one_did_not(hazards: dict[str, Any]) -> None:
    assert _facts(hazards["warm"][0])["parent_comm"] == "python3"  # the keeper
    assert _facts(hazards["cold"][0])["parent_comm"] == "sh"


def test_a_component_sees_the_same_process_warm_or_cold(hazards: dict[str, Any]) -> None:
    warm, cold = _facts(hazards["warm"][0]), _facts(hazards["cold"][0])
    warm.pop("parent_comm"), cold.pop("parent_comm")

    assert warm == cold


def test_a_warm_component_sees_a_fresh_process(hazards: dict[str, Any]) -> None:
    facts = _facts(hazards["warm"][0])

    assert facts["argv0"] == "executor_main.py"
    rest = ["--component_module_path", "--executor_input", "--function_to_execute", "facts"]
    assert facts["argv_rest"] == rest
    assert (facts["main_file"], facts["main_name"]) == ("executor_main.py", "__main__")
    assert not facts["executor_main_imported"]  # run as __main__ only, as `python -m` runs it
    assert facts["warm_modules"] == []
    assert facts["cwd_is_task_dir"]
    assert (facts["sigterm"], facts["sigchld"], facts["sigpipe"]) == ("0", "0", "1")  # SIG_DFL, SIG_IGN
    assert facts["sigint_default"]
    assert facts["blocked"] == []
    assert facts["threads"] == 1
    assert facts["fds"] == [0, 1, 2, 3]  # 3: the listing's own
    assert facts["stdin"] == "/dev/null"
    assert facts["parent_alive"] and facts["group_is_parent"] and not facts["session_leader"]
    assert facts["forked_child_exit"] == 7
    assert facts["executable"] == "python3"


def test_variables_set_on_the_task_are_read_as_a_fresh_process_reads_them(hazards: dict[str, Any]) -> None:
    facts = _facts(hazards["warm"][0])

    assert facts["environ_value"] == "task-value"
    assert facts["import_time_env"] == "task-value"  # read by a module the component imports
    assert facts["tempdir"] == TMPDIR  # TMPDIR through tempfile.gettempdir()
    assert facts["tzname"] == "LPL"  # TZ, which `time` read when the interpreter started
    assert facts["kfp_runtime"] == "true"
    assert facts["hash"] == _facts(hazards["cold"][0])["hash"]  # PYTHONHASHSEED=123: its own interpreter


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_every_iteration_draws_its_own_random_numbers(hazards: dict[str, Any], mode: str) -> None:
    run = hazards[mode][0]
    values = [probe["value"] for probe in run.probes("draw")]

    assert len(values) == 6
    assert len(set(values)) == 6


def test_numpy_preloaded_draws_its_own_numbers_and_runs_its_own_threads(hazards: dict[str, Any]) -> None:
    def draws(mode: str) -> dict[int, dict[str, Any]]:
        return {probe["item"]: probe for probe in hazards[mode][0].probes("draw_numpy")}

    warm, cold = draws("warm"), draws("cold")
    values = [probe["value"] for probe in [*warm.values(), *cold.values()]]

    assert sorted(warm) == sorted(cold) == [1, 2, 3, 4, 11, 12, 13, 14]
    assert len(set(values)) == 16  # numpy's global random state, reseeded in every forked component
    # Preloaded once the warm interpreter forked its first component, or before it when the interpreter was
    # started ahead of the first task (driver/run/warm_ahead.py): in each loop all tasks, or all but one.
    loops = ([1, 2, 3, 4], [11, 12, 13, 14])
    assert all(sum(warm[item]["preloaded"] for item in loop) in (3, 4) for loop in loops)
    assert not any(probe["preloaded"] for probe in cold.values())
    # OpenBLAS's threads: not inherited, started again by the component, as many as a fresh process starts.
    assert {item: probe["threads"] for item, probe in warm.items()} == {
        item: probe["threads"] for item, probe in cold.items()
    }
    assert {warm[item]["threads"] for item in (11, 12, 13, 14)} == {1}  # OPENBLAS_NUM_THREADS=1 honoured


def test_exit_codes_and_messages_are_those_of_a_cold_start(hazards: dict[str, Any]) -> None:
    def endings(run: FinishedRun) -> list[tuple[Any, ...]]:
        found = []
        for execution in run.executions("end"):
            [attempt] = execution.attempts
            found.append((execution.state, attempt["exit_code"], attempt["error"]))
        return sorted(found, key=str)

    warm, cold = endings(hazards["warm"][0]), endings(hazards["cold"][0])

    assert warm == cold
    assert sorted(code for _, code, _ in warm) == [1, 1, 3, 4, 120, 128 + signal.SIGINT, 128 + signal.SIGKILL]
    assert {state for state, _, _ in warm} == {FAILED}
    assert any(error.endswith("Killed") for _, _, error in warm)  # as sh reports a child killed by a signal


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_an_ending_component_prints_what_a_fresh_interpreter_prints(
    hazards: dict[str, Any], mode: str
) -> None:
    logs = {e.inputs["how"]: Path(e.log).read_text() for e in hazards[mode][0].executions("end")}

    assert "RuntimeError: boom" in logs["raise"] and "Traceback (most recent call last):" in logs["raise"]
    assert "KeyboardInterrupt" in logs["interrupt"]
    assert logs["message"].rstrip().endswith("bye")
    assert "Exception ignored in: <_io.TextIOWrapper name='/dev/full'" in logs["full_stdout"]
    assert "OSError: [Errno 28] No space left on device" in logs["full_stdout"]


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_threads_are_joined_and_held_files_flushed_as_the_component_ends(
    hazards: dict[str, Any], mode: str
) -> None:
    run, marker, _ = hazards[mode]

    assert run.execution("linger").state == COMPLETE
    assert Path(f"{marker}.thread").read_text() == "joined"
    assert Path(f"{marker}.held").read_text() == "flushed at exit"


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_what_a_component_leaves_behind_is_killed_and_atexit_runs(hazards: dict[str, Any], mode: str) -> None:
    run, marker, token = hazards[mode]

    assert run.execution("leave").state == COMPLETE
    assert run.execution("facts").state == COMPLETE
    sleeper = int(Path(f"{marker}.sleeper").read_text())
    assert not alive(sleeper)
    assert Path(f"{marker}.atexit").exists()
    assert leftovers(token) == []  # the warm interpreter too, once its driver is gone


def test_no_warm_interpreter_outlives_its_driver(hazards: dict[str, Any]) -> None:
    deadline = time.monotonic() + GRACE
    while (orphaned := _warm_servers_of_dead_drivers()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert orphaned == []


def test_explain_says_how_a_task_would_start(compile_pipeline: CompilePipeline, lpl_home: Path) -> None:
    package = str(compile_pipeline("warm_hold"))

    warm = run_cli("driver", package, "--explain", "-p", "marker=/nowhere", home=lpl_home)
    cold = run_cli("driver", package, "--explain", "--cold-start", "-p", "marker=/nowhere", home=lpl_home)
    said = run_cli("driver", package, "--explain", "--warm-start", "-p", "marker=/nowhere", home=lpl_home)
    both = run_cli("driver", package, "--warm-start", "--cold-start", "-p", "marker=/nowhere", home=lpl_home)

    assert "; starts warm" in warm.stdout, warm.stdout + warm.stderr
    assert "; starts cold (--cold-start)" in cold.stdout, cold.stdout + cold.stderr
    assert said.stdout == warm.stdout  # the default, said explicitly
    assert both.returncode == 2 and "not allowed with argument" in both.stderr, both.stderr


def test_lpl_cold_start_makes_cold_the_default(compile_pipeline: CompilePipeline, lpl_home: Path) -> None:
    package = str(compile_pipeline("warm_hold"))
    cold_env = {"LPL_COLD_START": "1"}

    cold = run_cli("driver", package, "--explain", "-p", "marker=/nowhere", home=lpl_home, env=cold_env)
    warm = run_cli(
        "driver", package, "--explain", "--warm-start", "-p", "marker=/nowhere", home=lpl_home, env=cold_env
    )

    assert "; starts cold (--cold-start)" in cold.stdout, cold.stdout + cold.stderr
    assert "; starts warm" in warm.stdout, warm.stdout + warm.stderr


def test_a_built_environment_is_warmed_ahead_of_the_first_task(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    package = compile_pipeline("warm_ahead")

    first = run_driver(package, home=lpl_home, run_id="first")  # builds the environments this cache lacks
    second = run_driver(package, home=lpl_home, run_id="second")
    cold = run_driver(package, "--cold-start", home=lpl_home, run_id="cold")

    for run in (first, second, cold):
        assert run.returncode == 0, run.output
        assert run.execution("plain").state == COMPLETE
    assert first.probe("first")["warm"]
    # Built by then: the fork server started its warm interpreter as the driver started, not its launcher.
    assert second.probe("first")["warm"] and second.probe("first")["ahead"]
    assert not cold.probe("first")["warm"] and not cold.probe("first")["ahead"]


# --- a warm component held, then stopped or killed ----------------------------------------------------------


class Held:
    def __init__(self, process: subprocess.Popen[bytes], *, home: Path, marker: Path, token: str) -> None:
        self.process, self.home, self.marker, self.token = process, home, marker, token

    def pids(self) -> tuple[int, int, int]:
        """The component's, its parent's (the keeper) and its sleeper's."""
        pids = self.marker.with_name(self.marker.name + ".pids")
        deadline = time.monotonic() + 60
        while not pids.exists():
            assert self.process.poll() is None, "the driver ended before the component held"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        component, parent, sleeper = (int(pid) for pid in pids.read_text().split())
        return component, parent, sleeper

    def execution(self) -> Execution:
        view = Ledger(self.home).open_run("held").view()
        [execution] = [e for e in view.executions.values() if e.task_name == "hold"]
        return execution

    def launcher_pid(self) -> int:
        return int(self.execution().attempts[-1]["pid"])

    def state(self) -> str:
        return self.execution().state


@pytest.fixture
def held(compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path) -> Iterator[Held]:
    token = f"warm-{uuid.uuid4().hex}"
    marker = tmp_path / "marker"
    arguments = (str(compile_pipeline("warm_hold")), "--home", str(lpl_home), "--run-id", "held",
                 "-p", f"marker={marker}", "-p", "mode=hold")
    with driver_in_background(*arguments, token=token, release=marker.with_name("marker.release")) as process:
        yield Held(process, home=lpl_home, marker=marker, token=token)


def test_a_held_warm_component_is_a_child_of_its_keeper_not_of_its_launcher(held: Held) -> None:
    _, parent, _ = held.pids()

    assert parent != held.launcher_pid()
    assert _comm(parent) == "python3"
    held.marker.with_name("marker.release").touch()
    assert held.process.wait(timeout=60) == 0
    assert held.state() == COMPLETE
    assert leftovers(held.token) == []


def test_a_stop_reaches_a_warm_component_and_what_it_left(held: Held) -> None:
    component, keeper, sleeper = held.pids()

    held.process.send_signal(signal.SIGTERM)

    assert held.process.wait(timeout=GRACE + 25) == 130
    assert gone_within([component, keeper, sleeper], 0) == []
    assert held.state() == CANCELED
    assert leftovers(held.token) == []


def test_sigkill_of_the_launcher_leaves_no_warm_component_process(held: Held) -> None:
    component, keeper, sleeper = held.pids()

    os.kill(held.launcher_pid(), signal.SIGKILL)

    assert gone_within([component, keeper, sleeper], GRACE) == []
    assert held.process.wait(timeout=60) == 1
    assert held.state() == FAILED
    assert leftovers(held.token) == []


def test_sigkill_of_a_warm_component_fails_the_task_as_a_signal_death(held: Held) -> None:
    component, keeper, sleeper = held.pids()

    os.kill(component, signal.SIGKILL)

    assert held.process.wait(timeout=60) == 1
    assert gone_within([keeper, sleeper], GRACE) == []
    execution = held.execution()
    assert execution.state == FAILED
    assert execution.attempts[-1]["exit_code"] == 128 + signal.SIGKILL
    assert leftovers(held.token) == []






def _comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def _warm_servers_of_dead_drivers() -> list[int]:
    """Warm interpreters (argv: -c BOOTSTRAP MARKER FILE SOCKET LOCK DRIVER_PID …) whose driver is gone."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            arguments = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        warm = len(arguments) > 7 and arguments[3] == WARM_MARKER
        if warm and alive(int(entry)) and not alive(int(arguments[7])):
            found.append(int(entry))
    return found
