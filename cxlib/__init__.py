"""cxlib: the CX research workbench for EV after-sales service networks.

Modules follow the flow of an analysis: ``catalog`` (domain constants), ``io`` (readers),
``synth`` (sample data), ``clean`` (cleaning and derived features), ``plotting`` (figure
style with CJK fonts), then the analysis modules.
"""

__version__ = "0.1.0"
