"""Running a pipeline: the lifecycle (`run`), the walk's handler set that records and launches (`dag`,
`container`, `importer`, `platform`), the one preparation of a container task that `--explain` shares
(`prepare`, `task_config`, `cache`), the ledger records (`executions`), the launcher seam (`launchers`, with
`server_process` started before the driver's heavy imports), `slots` and the `console`.

Imports nothing: `python -m driver` imports `driver.run.server_process` before anything heavy.
"""
