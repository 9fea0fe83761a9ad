"""What comes in, validated: the unit registry, errors, the assumption catalogue and its
schema, and scenarios (YAML files, filled Excel templates, overrides).

Nothing here imports from the other wings (`model`, `analysis`, `io`).
"""
