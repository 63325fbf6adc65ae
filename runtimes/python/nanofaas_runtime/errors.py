"""Errors a handler may raise, and the error bodies the runtime answers with."""


class InvalidInputError(ValueError):
    """Raise from a handler to reject its input: the runtime answers 400 INVALID_INPUT.

    Only this class (and subclasses) means "bad input". A plain ValueError is treated like any
    other exception (500 FUNCTION_ERROR): it is far more often a bug in the handler than a
    deliberate rejection, and guessing would hide bugs as client errors.
    """


class HandlerLoadError(Exception):
    """HANDLER could not be resolved to a callable; the process exits with a clear message."""


class ConfigError(Exception):
    """An environment variable has an unusable value."""
