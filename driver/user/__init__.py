"""The API in the user's Python process: `run_pipeline` and its results (`api`), the run read back for it in
a process of its own (`result`, `python -m driver.user.result`) and the pytest plugin's `lpl` fixture
(`pytest_plugin`). `driver/__init__.py` hands `api`'s names on as `from driver import …`."""
