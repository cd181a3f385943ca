"""`python -m ui.cli`: the same as the `lepton` command."""

import sys

from ui.cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
