"""clinic_tui: the front desk of a Vietnamese physiotherapy clinic, in a terminal."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("clinic-tui")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
