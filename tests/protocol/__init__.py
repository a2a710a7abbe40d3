"""Tests of the sans-IO protocol layer."""
