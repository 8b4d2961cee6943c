"""btvstat-open: a toolkit for city performance programs."""
