"""The one walk of a pipeline's DAG and what it resolves at each node, for a run and for `--explain` alike:
the traversal (`walk`), the state it carries (`state`), inputs (`resolve`, `condition`, `provision`, root
`params`) and the stand-ins for values no run has produced yet (`standins`)."""
