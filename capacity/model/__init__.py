"""The chain: demand -> throughput -> fleet -> power -> cost (`stages/`), the options that
evaluate it for each way of supplying a country, and `plan.run`, which ties them together.

Imports only from `capacity.data`; never from `analysis` or `io`.
"""
