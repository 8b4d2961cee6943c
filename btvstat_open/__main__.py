"""``python -m btvstat_open`` runs the command line."""

import sys

from btvstat_open.cli import main

sys.exit(main())
