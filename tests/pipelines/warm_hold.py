"""Covers: a warm-started component (issue 22) is owned by its launcher as a cold one is. `hold` leaves a
`sleep 300` behind in a session of its own, writes its own pid, its parent's and the sleeper's to
`<marker>.pids`, then (with `mode=hold`; by default it ends at once) waits until `<marker>.release` exists;
caching is off."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def hold(marker: str, mode: str):
    import os
    import subprocess
    import time

    sleeper = subprocess.Popen(["sleep", "300"], start_new_session=True)
    with open(marker + ".pids.tmp", "w") as handle:
        handle.write(f"{os.getpid()} {os.getppid()} {sleeper.pid}")
    os.rename(marker + ".pids.tmp", marker + ".pids")
    while mode == "hold" and not os.path.exists(marker + ".release"):
        time.sleep(0.05)


@dsl.pipeline(name="warm-hold")
def pipeline(marker: str, mode: str = "return"):
    hold(marker=marker, mode=mode).set_caching_options(False)
