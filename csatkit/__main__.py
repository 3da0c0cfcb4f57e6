"""``python -m csatkit``: the same as the ``csatkit`` command."""

import sys

from .cli import main

sys.exit(main())
