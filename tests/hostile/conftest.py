"""Fixtures of the hostile suite: each test sends the exact bytes it chooses to a fresh berth (issue 23's categories)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
