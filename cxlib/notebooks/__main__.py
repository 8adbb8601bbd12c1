"""``python -m cxlib.notebooks refresh notebooks``: stored outputs refreshed in place."""

import sys

from cxlib.notebooks.refresh import main

sys.exit(main())
