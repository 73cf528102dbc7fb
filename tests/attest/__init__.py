"""Tests of reportdraft.attest."""
