"""Accounting connectors: the ledger pulled from another system, batch by batch, from a cursor.

:mod:`.base` holds the contract every connector meets; each system has a module of its own
(:mod:`.tryton`), loaded only when a source names it (``bootstrap.connector``). The CSV
ledger remains the generic way in for systems without a connector.
"""
