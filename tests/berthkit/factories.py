"""Factory fixtures' one shape: a function that makes objects on demand, each closed (or stopped) when the test ends."""


def closing_factory(make, close=lambda o: o.close()):
    """For a fixture to `yield from`: yields a function that returns make(*args, **kw) and keeps it, then, at
    teardown, calls close() on each object made, in the order made."""
    made = []

    def factory(*args, **kw):
        o = make(*args, **kw)
        made.append(o)
        return o

    yield factory
    for o in made:
        close(o)
