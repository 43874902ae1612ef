"""``keeper console``: a read-only web console over the pool's chain state and the keeper's store.

It never signs or sends: each page names the ``ape run`` / ``python -m keeper`` command that performs an
action. ``snapshots`` holds what is read, ``pages`` the pure functions that turn it into each page's view
model, ``sources`` the reads themselves, ``app`` the Starlette routes and templates.
"""
