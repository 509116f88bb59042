"""``python -m inferwire.testing``: the fake inference server from the command line."""

from __future__ import annotations

import sys

from ._script import main

if __name__ == "__main__":
    sys.exit(main())
