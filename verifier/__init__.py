"""Verifier role: marketplace sites that verify credentials and presentations against their own policy.

It will own verification policies per site, challenge management for presentation requests, seller
onboarding decisions and its Flask blueprint. It builds on the ``chopmark`` kernel.
"""
