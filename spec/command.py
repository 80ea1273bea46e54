"""The SDK's lightweight-component command: what its preamble installs and the program it then runs."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_KFP_PIN = re.compile(r"^kfp==([0-9][^;\s]*)$")
# The marker a finished environment holds; an environment without it is rebuilt.
ENVIRONMENT_READY = ".lpl-ready"


@dataclass(frozen=True)
class PythonPlan:
    """How to run a lightweight component: what its preamble would install, and the program after it."""

    installs: tuple[tuple[str, ...], ...]
    program: tuple[str, ...]

    @property
    def key(self) -> str:
        """One environment per Python (implementation, version, ABI, platform) and install lines: shared by
        every spelling of an interpreter (`python`, `python3`, a venv's), by the venvs of one base Python and
        by the host and Ray runners of one machine; the path of the interpreter plays no part."""
        identity = {"python": python_identity(), "installs": self.installs}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]

    def kfp_version(self) -> str | None:
        for install in self.installs:
            for token in install:
                match = _KFP_PIN.match(token.strip())
                if match:
                    return match.group(1)
        return None


# The compiled program after the SDK's pip preamble, as kfp 2 writes it (`_KFP_RUNTIME=true` since 2.5).
_EXECUTOR_SCRIPT = re.compile(
    r'program_path=\$\(mktemp -d\)\s+printf "%s" "\$0" > "\$program_path/ephemeral_component\.py"\s+'
    r"(?P<flag>_KFP_RUNTIME=true\s+)?python3 -m kfp\.dsl\.executor_main\s+--component_module_path\s+"
    r'"\$program_path/ephemeral_component\.py"\s+"\$@"\s*'
)


@dataclass(frozen=True)
class ExecutorProgram:
    """The program of a lightweight component, when it is the SDK's own `sh -ec` script: the component's
    module and the arguments the script passes on to `python3 -m kfp.dsl.executor_main`."""

    source: str
    args: tuple[str, ...]
    runtime_flag: bool  # the script sets `_KFP_RUNTIME=true`


def executor_program(program: Sequence[str]) -> ExecutorProgram | None:
    """`program` (`sh -ec SCRIPT SOURCE ARGS…`) read as an `ExecutorProgram`; None for any other program."""
    if len(program) < 4 or tuple(program[:2]) != ("sh", "-ec"):
        return None
    match = _EXECUTOR_SCRIPT.fullmatch(program[2])
    if match is None:
        return None
    return ExecutorProgram(source=program[3], args=tuple(program[4:]), runtime_flag=bool(match.group("flag")))


def start_mode(plan: PythonPlan | None, *, cold_start: bool) -> str:
    """How the host runner starts the component (issue 22): `warm` (forked from its environment's warm
    interpreter) or `cold` (a fresh process), with why in parentheses."""
    if cold_start:
        return "cold (--cold-start)"
    if plan is None:
        return "cold (not a lightweight Python component)"
    if executor_program(plan.program) is None:
        return "cold (its program is not the SDK's executor script)"
    return "warm"


def python_identity() -> dict[str, str]:
    """What an environment built from this interpreter depends on (not where the interpreter lives)."""
    return {
        "implementation": sys.implementation.name,
        "version": ".".join(map(str, sys.version_info)),
        "abiflags": getattr(sys, "abiflags", ""),
        "platform": sysconfig.get_platform(),
    }


def base_interpreter() -> str:
    """The interpreter environments are built from: a venv's base Python (it outlives the venv), found
    through any spelling of it (`python`, `python3`, symlinks)."""
    return os.path.realpath(getattr(sys, "_base_executable", "") or sys.executable)


def environment_root() -> Path:
    """Where environments are cached: outside every home, in the user cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "local-pipelines" / "envs"


def environment_dir(plan: PythonPlan) -> Path:
    """The cached environment that runs `plan` (built or not)."""
    return environment_root() / plan.key


def plan_python_component(command: list[str], args: list[str], *, kfp_package: str = "") -> PythonPlan | None:
    """Recognise the SDK's `sh -c '<pip install …> && "$0" "$@"' sh -ec <program>` preamble.

    The program that follows the preamble is run unchanged; only the install step is replaced by the
    cached environment, which holds exactly what the install lines name. `kfp_package` (a path, wheel or
    requirement) replaces the `kfp==VERSION` pin, as the backend's CI installs the SDK under test; it is
    part of the install lines, so of the environment's cache key.
    """
    if len(command) < 4 or command[:2] != ["sh", "-c"] or "pip install" not in command[2]:
        return _plan_without_preamble(command, args, kfp_package=kfp_package)
    if not command[2].rstrip().endswith('"$0" "$@"'):
        return None
    installs: list[tuple[str, ...]] = []
    for line in command[2].splitlines():
        if "pip install" in line:
            installs.extend(_pip_installs(line))
    return PythonPlan(installs=_substitute_kfp(installs, kfp_package), program=(*command[3:], *args))


def _substitute_kfp(installs: Sequence[tuple[str, ...]], kfp_package: str) -> tuple[tuple[str, ...], ...]:
    if not kfp_package:
        return tuple(installs)
    return tuple(
        tuple(kfp_package if _KFP_PIN.match(token.strip()) else token for token in install)
        for install in installs
    )


def _plan_without_preamble(command: list[str], args: list[str], *, kfp_package: str) -> PythonPlan | None:
    # No install step: the image is expected to hold kfp; give the executor the kfp this project pins.
    if any("kfp.dsl.executor_main" in part for part in command):
        from importlib.metadata import version

        installs = [(f"kfp=={version('kfp')}", "--no-deps")]
        return PythonPlan(installs=_substitute_kfp(installs, kfp_package), program=(*command, *args))
    return None


def _pip_installs(line: str) -> list[tuple[str, ...]]:
    tokens = shlex.split(line)
    installs: list[tuple[str, ...]] = []
    current: list[str] | None = None
    for token in tokens:
        if token in ("&&", "$0", "$@"):
            if current is not None:
                installs.append(tuple(current))
            current = None
        elif current is not None:
            current.append(token)
        elif token == "install" and current is None:
            current = []
    if current is not None:
        installs.append(tuple(current))
    return installs
