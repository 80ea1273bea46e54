"""`python -m ledger`: inspect the runs recorded in a home (see `ledger.cli`)."""

import sys

from ledger.cli import main

sys.exit(main())
