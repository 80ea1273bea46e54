"""`python -m ledger ui`: a local web server over one home that only routes, streams and serves files."""
