"""``python -m tinynet`` and the ``tinynet`` console script: the command line of tinynet."""

import sys

from tinynet.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
