"""The dunning rules, free of I/O: policy + ledger state + a date in, decisions out.

Nothing here reads a clock, a file, a database or the environment; everything it needs is
passed in, so that every rule can be tested by walking through dates.
"""
