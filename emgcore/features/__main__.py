"""``python -m emgcore.features``: the feature command line (see cli.py)."""

import sys

from .cli import main

sys.exit(main())
