"""`apikeys serve`: the HTTP verify service (options, the WSGI application, the server that runs it)."""
