"""`python -m desktop`: the same entry point as the `apikeys` console script."""

from __future__ import annotations

import sys

from desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
