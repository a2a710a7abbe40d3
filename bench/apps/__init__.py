"""The servers under test: ours, the raw ASGI ceiling, and the peers.

Every app serves the same four operations on the same payloads so that the
load generator drives all of them with one set of scenarios: echo, broadcast
to everyone else, join a group, and send to a group. Each module is importable
on its own and depends only on the package it benchmarks.
"""
