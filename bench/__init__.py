"""claimdesk benchmarks: one command builds a scaled database and measures the hot paths.

Run ``bench/run`` (or ``.venv/bin/python -m claimdesk.bench``); see docs/benchmarks.md.
Every measured case runs in its own subprocess (fresh interpreter, its own peak RSS),
once through the claimdesk core and once as a hand-written SQL / raw-driver baseline
doing the same work on the same database in the same run.
"""
