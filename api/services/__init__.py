"""The use cases of the app, one module each: what the API routes, the pages, the CLI and
the demo loader call. A service owns its unit of work (one transaction, through
:class:`~api.services.context.Context`), its caches and jobs, the steps that span several
aggregates, and the input checks that every entry point shares. It reads and writes
through :mod:`api.repositories` and computes with :mod:`geo`; it returns domain objects
or the Public schemas of :mod:`api.schemas`."""
