"""The policy: its model, loading and layering the files, and the repository lookup.

Pure apart from reading ``policies/``; the files themselves come through ``lookup.PolicyFiles``
(the GitHub gateway).
"""
