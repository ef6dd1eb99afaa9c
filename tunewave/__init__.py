"""The `tunewave` launcher: the command line, the process supervisor, the embedded servers and
the preparation of a database (migrate, catalog import, demo seed). Not part of the API.
"""
