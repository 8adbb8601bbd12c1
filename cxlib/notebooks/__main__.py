"""``python -m cxlib.notebooks refresh notebooks``: stored outputs refreshed in place."""

import sys

from cxlib.notebooks.refresh import main

if __name__ == "__main__":  # importing the module (pkgutil.walk_packages does) runs nothing
    sys.exit(main())
