"""The views on the store: `python -m ledger` (cli), what it describes, renders and diffs, the HTML report."""
