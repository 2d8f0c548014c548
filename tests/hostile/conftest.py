"""Fixtures of the hostile suite: each test sends the exact bytes it chooses to a fresh berth (issue 23's categories)."""
