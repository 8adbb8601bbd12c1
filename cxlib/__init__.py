"""cxlib: the CX research workbench for EV after-sales service networks.

Modules follow the flow of an analysis: ``catalog`` (domain constants), ``io`` (readers),
``synth`` (sample data), ``clean`` (cleaning and derived features), ``plotting`` (figure
style with CJK fonts), then the analysis modules. ``safe`` holds the rules that keep data
from becoming a path, a link, markup or math.

Imported in a Jupyter kernel, the package shows DataFrames so that ``$…$`` in the data is
never typeset as math (:func:`cxlib.safe.show_tables_literally`).
"""

from cxlib.safe import show_tables_literally as _show_tables_literally

__version__ = "0.1.0"

_show_tables_literally()
