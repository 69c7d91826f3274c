"""Errors raised by model backends. Each message says what to do next."""

from __future__ import annotations


class CoreError(Exception):
    """Base class: a model or backend problem the user can fix."""


class UnknownBackendError(CoreError):
    """A backend name that is not registered."""


class ModelNotFoundError(CoreError):
    """A model file or registry entry is missing."""


class ModelCorruptError(CoreError):
    """A model or adapter file exists but is not what it claims to be."""


class BackendUnavailableError(CoreError):
    """The backend's library or server cannot be reached."""
