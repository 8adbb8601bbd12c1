"""The rules of the data contract, one module per raw table.

Each ``_clean_<table>`` function takes the raw rows of its table and returns the kept rows
(typed, repaired) with the :class:`cxlib.clean.ledger._Audit` that records which rows were
quarantined under which rule and which repairs touched the others.
"""
