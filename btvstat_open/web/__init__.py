"""The HTTP plumbing both servers share: the local portal's and the widgets' (FastAPI and Starlette).

Nothing here knows SODA routes or KPIs; it sits below both servers, so neither imports the other.
:mod:`~btvstat_open.web.replies` answers a heavy read on the query pool within its budget,
:mod:`~btvstat_open.web.handlers` renders every error in one JSON shape (a DuckDB failure
through :mod:`~btvstat_open.store.engine_errors`), and
:mod:`~btvstat_open.web.openapi` makes ``/openapi.json`` describe each route as it behaves.

Example:
    >>> from fastapi import FastAPI
    >>> from btvstat_open.web.handlers import install_error_handlers
    >>> app = FastAPI()
    >>> install_error_handlers(app)
    >>> from btvstat_open.errors import BtvstatError
    >>> BtvstatError in app.exception_handlers
    True
"""
