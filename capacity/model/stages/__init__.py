"""The stages of the model, one module each: demand -> throughput -> fleet -> power -> cost.

Pure, vectorised functions of arrays in canonical units; no file, CLI or pint here.
"""
