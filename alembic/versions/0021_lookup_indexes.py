"""Indexes for two lookups that read whole tables at clinic-chain scale: the invoice a
voided one was replaced by (shown with every invoice), and the appointment a move came from
(the foreign key's check when an appointment row goes).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Indexes: replaced invoices, moved appointments"
title_vi = "Chỉ mục: hóa đơn được thay thế, lịch hẹn được dời"


def upgrade() -> None:
    op.create_index(
        "ix_invoices_replaces_invoice_id",
        "invoices",
        ["replaces_invoice_id"],
        postgresql_where=sa.text("replaces_invoice_id IS NOT NULL"),
    )
    op.create_index(
        "ix_appointments_rescheduled_from_id",
        "appointments",
        ["rescheduled_from_id"],
        postgresql_where=sa.text("rescheduled_from_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_appointments_rescheduled_from_id", table_name="appointments")
    op.drop_index("ix_invoices_replaces_invoice_id", table_name="invoices")
