"""Covers: a task attempt is a process tree its launcher owns (issue 15, item 1). `leave_behind` starts
`sleep 300` in the background, one in its process group and one that escapes it with `setsid`, writes their
pids to `<marker>.pids` (its own to `<marker>.main`), then ends at once (or, with `hold`, waits until
`<marker>.release` exists, writing `<marker>.started` first); `after` runs once it has ended. Caching is off
so that every run starts them."""

from kfp import dsl

SCRIPT = """
echo $$ > "$0.main"
sleep 300 &
setsid sleep 300 &
sleep 0.2
pgrep -P $$ -d ' ' > "$0.pids" || true
echo "left two sleepers behind"
if [ "$1" = hold ]; then
    touch "$0.started"
    while [ ! -e "$0.release" ]; do sleep 0.05; done
fi
"""


@dsl.container_component
def leave_behind(marker: str, mode: str):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", SCRIPT], args=[marker, mode])


@dsl.container_component
def after(marker: str):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'touch "$0.after"'], args=[marker])


@dsl.pipeline(name="process-tree")
def pipeline(marker: str, mode: str = "return"):
    left = leave_behind(marker=marker, mode=mode).set_caching_options(False)
    after(marker=marker).after(left).set_caching_options(False)
