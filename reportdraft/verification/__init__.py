"""The verifier's parts: vocabularies, context cues, numbers, source texts and the checks.

The public entry points are :func:`reportdraft.verify.verify` and
:func:`reportdraft.verify.source_texts`, and :func:`reportdraft.extract.extract_facts` for
fact extraction; the modules here are their building blocks (and the error-injection
harness in :mod:`reportdraft.verification.injection`).
"""
