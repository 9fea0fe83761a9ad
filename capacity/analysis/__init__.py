"""What is computed over the results of runs: checks (thresholds for CI) and diffs.

Imports from `capacity.data` and `capacity.model`; never from `io`.
"""
