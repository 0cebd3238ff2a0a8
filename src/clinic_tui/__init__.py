"""clinic_tui: the front desk of a Vietnamese physiotherapy clinic, in a terminal."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # Resolved on demand: importlib.metadata costs tens of milliseconds on the start path.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("clinic-tui")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0.0.0+source"
    raise AttributeError(name)
