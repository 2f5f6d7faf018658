"""Signature tables: what toolchains, bases, builds and fixes look like, as data.

Adding an ecosystem is a row in one of these modules, not a new branch in a rule.
"""
