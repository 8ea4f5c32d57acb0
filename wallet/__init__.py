"""Wallet role: a merchant's keys and credentials, answering a site's request with a presentation.

It will own the key store, the credential store, presentation-request handling (query by example) and its
CLI commands and Flask blueprint. It builds on the ``chopmark`` kernel.
"""
