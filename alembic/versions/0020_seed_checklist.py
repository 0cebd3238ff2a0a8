"""Seed the default check-in checklist: consent signed and photo ID checked (required), BHYT
card seen, referral letter collected, contact details confirmed, in both languages and in use.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Seed: the default check-in checklist"
title_vi = "Dữ liệu mẫu: danh mục kiểm tra khi tiếp đón mặc định"

# Fixed ids: the downgrade removes exactly these rows, whatever admins added since.
TEMPLATE_ID = "6c1f2d0e-7a4b-4f1e-9c2d-000000000001"
ITEMS = (
    # (id, English, Vietnamese, required) — uninsured patients pay in full, so the card is
    # asked for but not required; a referral letter exists only for referred patients.
    ("6c1f2d0e-7a4b-4f1e-9c2d-000000000101", "Consent to treatment signed",
     "Đã ký giấy đồng ý điều trị", True),
    ("6c1f2d0e-7a4b-4f1e-9c2d-000000000102", "Photo ID checked (CCCD / passport)",
     "Đã kiểm tra giấy tờ tùy thân có ảnh (CCCD / hộ chiếu)", True),
    ("6c1f2d0e-7a4b-4f1e-9c2d-000000000103", "BHYT card seen (or VssID / VNeID)",
     "Đã xem thẻ BHYT (hoặc VssID / VNeID)", False),
    ("6c1f2d0e-7a4b-4f1e-9c2d-000000000104", "Referral letter collected, if referred",
     "Đã nhận giấy chuyển tuyến (nếu có)", False),
    ("6c1f2d0e-7a4b-4f1e-9c2d-000000000105", "Phone and emergency contact confirmed",
     "Đã xác nhận số điện thoại và người liên hệ khẩn cấp", False),
)  # fmt: skip

templates = sa.table(
    "visit_checklist_templates",
    sa.column("id", sa.Uuid()),
    sa.column("name_en"),
    sa.column("name_vi"),
    sa.column("is_active"),
)
items = sa.table(
    "visit_checklist_items",
    sa.column("id", sa.Uuid()),
    sa.column("template_id", sa.Uuid()),
    sa.column("position"),
    sa.column("label_en"),
    sa.column("label_vi"),
    sa.column("is_required"),
)
responses = sa.table("visit_checklist_responses", sa.column("item_id", sa.Uuid()))


def upgrade() -> None:
    import uuid

    op.bulk_insert(
        templates,
        [{"id": uuid.UUID(TEMPLATE_ID), "name_en": "Check-in checklist",
          "name_vi": "Danh mục kiểm tra khi tiếp đón", "is_active": True}],
    )  # fmt: skip
    op.bulk_insert(
        items,
        [
            {"id": uuid.UUID(item_id), "template_id": uuid.UUID(TEMPLATE_ID), "position": index,
             "label_en": label_en, "label_vi": label_vi, "is_required": required}
            for index, (item_id, label_en, label_vi, required) in enumerate(ITEMS)
        ],
    )  # fmt: skip


def downgrade() -> None:
    import uuid

    seeded = [uuid.UUID(item_id) for item_id, *_rest in ITEMS]
    # Answers given to these items go with them: without the items they mean nothing.
    op.execute(responses.delete().where(responses.c.item_id.in_(seeded)))
    op.execute(items.delete().where(items.c.id.in_(seeded)))
    op.execute(templates.delete().where(templates.c.id == uuid.UUID(TEMPLATE_ID)))
