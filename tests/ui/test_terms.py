"""Medical terms (F6) and the term field: matches as one types in both languages, with or
without accents or by ICD-10 code; the newer keystroke's answer wins; picking keeps the id;
admins add and edit terms."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text
from textual.widgets import Input, Static

from clinic_tui.ui.widgets.term_input import TermInput
from tests.ui.conftest import PASSWORD, screen_text, settle, type_text


async def signed_in(app, pilot, email: str, key: str | None = None) -> None:
    await settle(app, pilot)
    app.screen.query_one("#email", Input).focus()
    await type_text(pilot, email)
    await pilot.press("enter")
    await type_text(pilot, PASSWORD)
    await pilot.press("enter")
    await settle(app, pilot)
    if key:
        await pilot.press(key)
        await settle(app, pilot)


async def typed(app, pilot, box: TermInput, query: str) -> list[str]:
    """Type `query` into an empty `box`; the dropdown's rows once every answer is in."""
    box.value = ""
    box.focus()
    await pilot.pause()
    await type_text(pilot, query)
    await settle(app, pilot)
    return dropdown_rows(box)


def dropdown_rows(box: TermInput) -> list[str]:
    if not box.dropdown.display:
        return []
    options = box.dropdown.option_list
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def _rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("query", "first_en", "first_vi"),
    [
        ("dau lung", "Low back pain", "Đau thắt lưng"),
        ("đau lưng", "Low back pain", "Đau thắt lưng"),
        ("Dau Lung", "Low back pain", "Đau thắt lưng"),
        ("low back", "Low back pain", "Đau thắt lưng"),
        ("lumbago", "Low back pain", "Đau thắt lưng"),
        ("M54", "Low back pain", "Đau thắt lưng"),
    ],
)
async def test_low_back_pain_however_typed(app_factory, staff, query, first_en, first_vi) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn", "f6")
        assert app.screen.id == "terms"
        box = app.screen.query_one("#term-query", TermInput)
        rows = await typed(app, pilot, box, query)
        assert 1 <= len(rows) <= 10
        assert any(first_en in row and first_vi in row for row in rows), rows


async def test_goi_finds_the_knee_terms(app_factory, staff) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn", "f6")
        rows = await typed(app, pilot, app.screen.query_one("#term-query", TermInput), "goi")
        assert any("Knee" in row and "Đầu gối" in row for row in rows), rows
        assert any("Knee osteoarthritis" in row and "M17" in row for row in rows), rows


async def test_rows_show_both_languages_code_and_category(app_factory, staff) -> None:
    staff("doctor@clinic.vn", role="DOCTOR", locale="vi")
    app = app_factory(lang="vi")
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn", "f6")
        box = app.screen.query_one("#term-query", TermInput)
        rows = await typed(app, pilot, box, "low back")
        # Vietnamese first (the current language), English after it, then code and category.
        first = next(row for row in rows if "M54.5" in row)
        assert first.index("Đau thắt lưng") < first.index("Low back pain") < first.index("M54.5")
        assert len(rows) <= 10
        await pilot.press("f2")  # the open dropdown follows the language; the text stays
        await settle(app, pilot)
        first = next(row for row in dropdown_rows(box) if "M54.5" in row)
        assert first.index("Low back pain") < first.index("Đau thắt lưng") < first.index("M54.5")
        assert "Condition" in first
        assert box.value == "low back"


async def test_newer_keystroke_wins_over_a_slow_older_answer(
    app_factory, staff, monkeypatch
) -> None:
    from clinic_tui.services import terms

    real = terms.search_terms
    finished: list[str] = []
    first_call = threading.Event()

    def slow_first(session, actor, text_, **kwargs):
        slow = not first_call.is_set()
        first_call.set()
        if slow:
            time.sleep(0.8)  # the first keystroke's query answers after all the others
        hits = real(session, actor, text_, **kwargs)
        finished.append(text_)
        return hits

    monkeypatch.setattr(terms, "search_terms", slow_first)
    staff("doctor@clinic.vn", role="DOCTOR")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn", "f6")
        box = app.screen.query_one("#term-query", TermInput)
        box.focus()
        await type_text(pilot, "goi")
        for _ in range(60):  # the newer answers come first, well before the slow one
            if box.shown_for == "goi":
                break
            await pilot.pause(0.01)
        assert box.shown_for == "goi" and "g" not in finished
        await settle(app, pilot)  # now the slow answer for "g" arrives, and is dropped
        assert finished[-1] == "g"
        assert box.shown_for == "goi"
        rows = dropdown_rows(box)
        assert any("Đầu gối" in row for row in rows), rows


async def test_enter_picks_a_term_and_keeps_its_id(app_factory, staff, db_url) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    [(term_id,)] = _rows(
        db_url, "SELECT id FROM vietnamese_medical_terms WHERE term_en = 'Low back pain'"
    )
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn", "f6")
        box = app.screen.query_one("#term-query", TermInput)
        rows = await typed(app, pilot, box, "dau lung")
        assert "Low back pain" in rows[0]
        await pilot.press("enter")
        await settle(app, pilot)
        assert box.value == "Low back pain"
        assert box.term_id == term_id
        shown = screen_text(app)
        assert "M54.5" in shown and "lumbago" in shown and "Đau thắt lưng" in shown
        assert "Pain in the lumbar region" in shown  # the description
        # Editing the text away from the term drops the id; the text stays as typed.
        box.focus()
        await pilot.press("end", "backspace")
        await settle(app, pilot)
        assert box.value == "Low back pai" and box.term_id is None


async def test_tab_picks_and_free_text_stays(app_factory, staff) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn", "f6")
        box = app.screen.query_one("#term-query", TermInput)
        await typed(app, pilot, box, "shoudler")  # one typo
        await pilot.press("tab")
        await settle(app, pilot)
        assert box.value == "Shoulder" and box.term_id is not None
        assert await typed(app, pilot, box, "qqxv zzk") == []
        await pilot.press("enter")
        await settle(app, pilot)
        assert box.value == "qqxv zzk" and box.term_id is None
        assert "No term picked" in screen_text(app)


async def _new_term_form(app, pilot) -> None:
    await pilot.press("ctrl+n")
    await settle(app, pilot)
    assert app.screen.id == "term-form"


async def _fill(app, pilot, values: dict[str, str]) -> None:
    from clinic_tui.ui.widgets.fields import ChoiceField

    values = dict(values)
    if category := values.pop("category", None):
        app.screen.query_one("#field-category", ChoiceField).set_value(category)
    for field_id, value in values.items():
        widget = app.screen.query_one(f"#{field_id}", Input)
        widget.focus()
        widget.value = ""
        await type_text(pilot, value)
    await pilot.pause()


async def test_admin_adds_a_term_found_at_once(app_factory, staff, db_url) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "admin@clinic.vn", "f6")
        box = app.screen.query_one("#term-query", TermInput)
        assert await typed(app, pilot, box, "piriformis") == []
        await _new_term_form(app, pilot)
        assert app.screen.query_one("#term_en", Input).value == "piriformis"  # what was typed
        await pilot.press("ctrl+s")  # Vietnamese and category missing
        await settle(app, pilot)
        shown = screen_text(app)
        assert "Required." in shown and "Choose a category." in shown
        await _fill(app, pilot, {"term_en": "Piriformis syndrome",
                                 "term_vi": "Hội chứng cơ hình lê", "icd10_code": "G57X",
                                 "category": "condition"})  # fmt: skip
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Not an ICD-10 code" in screen_text(app)
        await _fill(app, pilot, {"icd10_code": "g57.0", "aliases": "piriformis; hội chứng lê"})
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Saved." in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen.id == "terms"
        assert "Hội chứng cơ hình lê" in screen_text(app)  # the new term is shown
        rows = await typed(app, pilot, box, "hoi chung co hinh")
        assert any("Piriformis syndrome" in row and "G57.0" in row for row in rows), rows
    assert _rows(
        db_url,
        "SELECT term_vi, icd10_code, aliases FROM vietnamese_medical_terms "
        "WHERE term_en = 'Piriformis syndrome'",
    ) == [("Hội chứng cơ hình lê", "G57.0", ["piriformis", "hội chứng lê"])]


async def test_duplicate_term_is_refused_at_its_field(app_factory, staff) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "admin@clinic.vn", "f6")
        await _new_term_form(app, pilot)
        await _fill(app, pilot, {"term_en": "low back PAIN", "term_vi": "Dau that lung",
                                 "category": "condition"})  # fmt: skip
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "This term already exists" in screen_text(app)


async def test_edit_conflict_is_explained_and_nothing_overwritten(
    app_factory, staff, db_url
) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "admin@clinic.vn", "f6")
        box = app.screen.query_one("#term-query", TermInput)
        await typed(app, pilot, box, "lumbago")
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("e")  # the detail has the focus after a pick
        await settle(app, pilot)
        assert app.screen.id == "term-form"
        assert app.screen.query_one("#icd10_code", Input).value == "M54.5"
        # Someone else saves the term meanwhile.
        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE vietnamese_medical_terms SET description_en = 'Theirs.',"
                    " version = version + 1 WHERE term_en = 'Low back pain'"
                )
            )
        engine.dispose()
        await _fill(app, pilot, {"description_en": "Mine."})
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Changed since you opened it" in screen_text(app)
        await pilot.click("#answer-reload")
        await settle(app, pilot)
        assert app.screen.query_one("#description_en", Input).value == "Theirs."
        await _fill(app, pilot, {"description_en": "Mine, after reading theirs."})
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Saved." in screen_text(app)
    assert _rows(
        db_url,
        "SELECT description_en FROM vietnamese_medical_terms WHERE term_en = 'Low back pain'",
    ) == [("Mine, after reading theirs.",)]


async def test_receptionist_reads_but_cannot_add_or_edit(app_factory, staff) -> None:
    staff()
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "reception@clinic.vn", "f6")
        box = app.screen.query_one("#term-query", TermInput)
        await typed(app, pilot, box, "M17")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "Knee osteoarthritis" in screen_text(app)
        footer = " ".join(str(w.render()) for w in app.screen.query("FooterKey"))
        assert "New term" not in footer and "Edit term" not in footer
        for key in ("e", "a", "ctrl+n"):
            await pilot.press(key)
            await settle(app, pilot)
            assert app.screen.id == "terms"
        assert str(app.screen.query_one("#term-detail-title", Static).render()).startswith(
            "Knee osteoarthritis"
        )


async def test_the_field_works_inside_a_dialog(app_factory, staff) -> None:
    from textual.containers import Vertical
    from textual.screen import ModalScreen

    picked: list[object] = []

    class Dialog(ModalScreen[None]):
        def compose(self):
            with Vertical():
                yield Input(id="before")
                yield TermInput(id="reason", placeholder="Reason")

        def on_term_input_picked(self, message: TermInput.Picked) -> None:
            picked.append((message.term_id, message.term.icd10_code, message.control.id))

    staff()
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "reception@clinic.vn")
        await app.push_screen(Dialog())
        await settle(app, pilot)
        box = app.screen.query_one("#reason", TermInput)
        rows = await typed(app, pilot, box, "thoai hoa khop goi")
        assert "Knee osteoarthritis" in rows[0] and box.dropdown.display
        region = box.dropdown.region
        assert region.y == box.region.y + 1 and region.x == box.content_region.x  # under it
        await pilot.press("enter")
        await settle(app, pilot)
        assert box.value == "Knee osteoarthritis" and not box.dropdown.display
        assert picked == [(box.term_id, "M17", "reason")]
