"""Exporters: views of `Plan.results`; they never compute model quantities."""
