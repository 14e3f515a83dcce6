"""Service functions: the thin layer between the API routes and the core.

Each function takes a database session and the :class:`~hengqi.server.permissions.Principal`, checks permission and
scope, makes the change, and appends the audit entry in the same transaction.  The caller commits.
"""
