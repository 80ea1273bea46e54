"""Covers: a warm start (issue 22, design decision 11) shows a component nothing a fresh process would not.

`draw` runs in a ParallelFor and prints what `random` gives (each iteration must differ), `draw_numpy` the
same of `numpy.random`, with the threads OpenBLAS ran (a loop of its own has OPENBLAS_NUM_THREADS=1); `facts`
prints what a component sees of its process (argv, `__main__`, sys.path, working directory, signal
dispositions, threads, open descriptors, parent, hash of a string under the task's PYTHONHASHSEED, TZ, TMPDIR
through `tempfile`, a variable read at import by a module imported inside the function), registers an atexit
handler and forks once; `leave` leaves a `sleep 300` behind in a session of its own; `linger` returns while a
non-daemon thread still has a file to write and an open file it wrote to is still held (unflushed) by a
module; `end` ends by `sys.exit` (with a code or a message), `os._exit`, an uncaught exception or
KeyboardInterrupt, a signal, or a standard output that cannot be flushed at exit, as `how` says. Caching is
off: every run starts every component."""

from kfp import dsl

# The test creates TMPDIR before the run (mktemp -d needs it, as in a pod); a variable's value is a constant.
TMPDIR = "/tmp/lpl-warm-hazards-tmpdir"
ENV = {"LPL_HAZARD": "task-value", "TZ": "LPL+05", "PYTHONHASHSEED": "123", "TMPDIR": TMPDIR}


@dsl.component(base_image="python:3.11")
def draw(item: int):
    import json
    import random

    print("PROBE " + json.dumps({"tag": "draw", "item": item, "value": random.random()}))


@dsl.component(base_image="python:3.11", packages_to_install=["numpy"])
def draw_numpy(item: int):
    import json
    import os
    import sys

    preloaded = "numpy" in sys.modules  # by the warm interpreter, for all but the first task it forks
    import numpy

    square = numpy.random.rand(600, 600)
    square @ square  # large enough for OpenBLAS to use its threads (one per core unless limited)
    print("PROBE " + json.dumps({
        "tag": "draw_numpy",
        "item": item,
        "value": float(numpy.random.random()),
        "preloaded": preloaded,
        "threads": len(os.listdir("/proc/self/task")),
        "limit": os.environ.get("OPENBLAS_NUM_THREADS"),
    }))


@dsl.component(base_image="python:3.11")
def facts(marker: str):
    import atexit
    import json
    import os
    import signal
    import sys
    import tempfile
    import threading
    import time

    fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    module_dir = tempfile.mkdtemp()
    with open(os.path.join(module_dir, "reads_env_at_import.py"), "w") as handle:
        handle.write("import os\nVALUE = os.environ.get('LPL_HAZARD')\n")
    sys.path.insert(0, module_dir)
    import reads_env_at_import  # read at import time

    sys.path.remove(module_dir)
    with open(f"/proc/{os.getppid()}/stat") as handle:
        parent_comm, parent_rest = handle.read().split("(", 1)[1].rsplit(")", 1)
    parent_state = parent_rest.split()[0]
    child = os.fork()
    if child == 0:
        os._exit(7)
    forked = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    atexit.register(lambda: open(marker + ".atexit", "w").close())
    main = sys.modules["__main__"]
    print("PROBE " + json.dumps({
        "tag": "facts",
        "argv0": os.path.basename(sys.argv[0]),
        "argv_rest": sys.argv[1:2] + sys.argv[3:],
        "main_file": os.path.basename(getattr(main, "__file__", "")),
        "main_name": main.__name__,
        "path0_is_cwd": sys.path[0] == os.getcwd(),
        "cwd_is_task_dir": os.path.exists(os.path.join(os.getcwd(), "task.json")),
        "warm_modules": sorted(m for m in sys.modules if "lpl" in m or "warm" in m),
        "executor_main_imported": "kfp.dsl.executor_main" in sys.modules,
        "sigterm": str(signal.getsignal(signal.SIGTERM)),
        "sigint_default": signal.getsignal(signal.SIGINT) is signal.default_int_handler,
        "sigpipe": str(signal.getsignal(signal.SIGPIPE)),
        "sigchld": str(signal.getsignal(signal.SIGCHLD)),
        "blocked": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
        "threads": threading.active_count(),
        "fds": fds,
        "parent_alive": parent_state not in ("Z", "X") and os.getppid() != 1,
        "session_leader": os.getsid(0) == os.getpid(),
        "group_is_parent": os.getpgid(0) == os.getppid(),
        "parent_comm": parent_comm,
        "hash": hash("lpl"),
        "tzname": time.tzname[0],
        "tempdir": tempfile.gettempdir(),
        "import_time_env": reads_env_at_import.VALUE,
        "environ_value": os.environ.get("LPL_HAZARD"),
        "kfp_runtime": os.environ.get("_KFP_RUNTIME"),
        "forked_child_exit": forked,
        "executable": os.path.basename(sys.executable),
        "stdin": os.readlink("/proc/self/fd/0"),
    }))


@dsl.component(base_image="python:3.11")
def leave(marker: str):
    import subprocess

    sleeper = subprocess.Popen(["sleep", "300"], start_new_session=True)
    with open(marker + ".sleeper", "w") as handle:
        handle.write(str(sleeper.pid))


@dsl.component(base_image="python:3.11")
def linger(marker: str):
    import builtins
    import threading
    import time

    def late() -> None:
        time.sleep(0.3)
        with open(marker + ".thread", "w") as handle:
            handle.write("joined")

    threading.Thread(target=late).start()  # non-daemon: the interpreter waits for it before it ends
    builtins.lpl_held = open(marker + ".held", "w")  # noqa: SIM115 - never closed: its buffer is flushed as Python ends
    builtins.lpl_held.write("flushed at exit")


@dsl.component(base_image="python:3.11")
def end(how: str):
    import os
    import signal
    import sys

    print("ending by " + how, flush=True)
    if how == "exit":
        sys.exit(3)
    if how == "os_exit":
        os._exit(4)
    if how == "signal":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "raise":
        raise RuntimeError("boom")
    if how == "message":
        sys.exit("bye")
    if how == "interrupt":
        raise KeyboardInterrupt
    if how == "full_stdout":
        sys.stdout = open("/dev/full", "w")  # noqa: SIM115 - its flush at exit fails
        print("lost")


@dsl.pipeline(name="warm-hazards")
def pipeline(marker: str):
    with dsl.ParallelFor([1, 2, 3, 4, 5, 6]) as item:
        draw(item=item).set_caching_options(False)
    with dsl.ParallelFor([1, 2, 3, 4]) as item:
        draw_numpy(item=item).set_caching_options(False)
    with dsl.ParallelFor([11, 12, 13, 14]) as item:  # read by OpenBLAS as it loads: its own warm interpreter
        draw_numpy(item=item).set_caching_options(False).set_env_variable("OPENBLAS_NUM_THREADS", "1")
    seen = facts(marker=marker).set_caching_options(False)
    for name, value in ENV.items():
        seen.set_env_variable(name, value)
    leave(marker=marker).set_caching_options(False)
    linger(marker=marker).set_caching_options(False)
    endings = ["exit", "os_exit", "signal", "raise", "message", "interrupt", "full_stdout"]
    with dsl.ParallelFor(endings) as how:
        end(how=how).set_caching_options(False)
