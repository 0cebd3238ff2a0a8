"""SQLAlchemy models, one module per area, over one declarative base."""

from clinic_tui.models.base import Base

__all__ = ["Base"]
