"""Warm starts on the host runner: a lightweight component forked from an interpreter that already imported
the KFP executor (`server.py`, run in the task's environment), owned by its launcher (`client.py`)."""
