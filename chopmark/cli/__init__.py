"""The command line: the root ``chopmark`` command and its generic commands (keygen, issue, verify, serve, demo
kernel) in :mod:`.main`, which mounts each role's command group; the options and error handling every group
shares in :mod:`.kit`; the demo ecosystem ``make run`` seeds in :mod:`.seed`. Roles may import :mod:`.kit`
only.
"""
