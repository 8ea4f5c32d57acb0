"""The service seam: settings, the HTTP plumbing shared by the role blueprints, the admin CLI, serving.

Not part of the pure kernel: this package reads the environment, the clock and the file system.
"""
