"""Roles on the screen (issue 11 item 4): a receptionist reaches the administration screen —
migrations, backups, staff — neither by F9 nor through the command palette, in either
language; a therapist is not offered invoicing, and the services refuse them anyway."""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial

import pytest
from textual.command import CommandList, CommandPalette

from clinic_tui.services import billing
from clinic_tui.services.access import PermissionDenied
from clinic_tui.services.billing import InvoiceDraft
from clinic_tui.ui.screens.admin import AdminScreen
from clinic_tui.ui.widgets.footer import FooterKey
from tests.ui.conftest import settle, type_text
from tests.ui.test_terms import signed_in

SIZE = (120, 40)


def footer_actions(app) -> set[str]:
    return {key.action for key in app.screen.query(FooterKey)}


def opened(app, screen_id: str) -> bool:
    """Whether that screen is anywhere on the stack (a palette or dialog may be on top)."""
    return any(screen.id == screen_id for screen in app.screen_stack)


async def palette_hits(app, pilot, query: str) -> list[tuple[str, object]]:
    """Open the palette, type `query`, and return each hit's text and command; the palette
    stays open on it."""
    await pilot.press("ctrl+p")
    await settle(app, pilot)
    assert isinstance(app.screen, CommandPalette)
    await type_text(pilot, query)
    await pilot.pause(0.3)
    await settle(app, pilot)
    commands = app.screen.query_one(CommandList)
    found = []
    for index in range(commands.option_count):
        hit = getattr(commands.get_option_at_index(index), "hit", None)
        if hit is not None:
            found.append((str(hit.text), hit.command))
    return found


def leads_to(command: object, destination: str) -> bool:
    """Whether a palette command opens `destination` (our providers bind it with partial)."""
    return isinstance(command, partial) and destination in map(str, command.args)


async def close_palette(app, pilot) -> None:
    while isinstance(app.screen, CommandPalette):
        await pilot.press("escape")
        await settle(app, pilot)


async def test_f9_does_not_open_the_admin_screen_for_a_receptionist(app_factory, staff) -> None:
    staff("reception@clinic.vn")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(app, pilot, "reception@clinic.vn")
        assert app.screen.id == "today"
        assert "open('admin')" not in footer_actions(app)
        assert "open('patients')" in footer_actions(app)  # the footer does list what is allowed
        assert app.check_action("open", ("admin",)) is False
        await pilot.press("f9")
        await settle(app, pilot)
        assert app.screen.id == "today" and not opened(app, "admin")
        # Even asked directly (a stale palette entry, a click), the app re-checks the role.
        await app.run_action("open('admin')")
        app.open_destination("admin")
        await settle(app, pilot)
        assert app.screen.id == "today" and not opened(app, "admin")
        await pilot.press("f3")  # the keys themselves work: an allowed screen opens
        await settle(app, pilot)
        assert app.screen.id == "patients"


@pytest.mark.parametrize(
    ("language", "queries"),
    [
        ("en", ("admin", "administration", "migrat", "upgrade", "backup", "restore", "staff")),
        ("vi", ("quản trị", "quan tri", "nâng cấp", "sao lưu", "nhân viên")),
    ],
)
async def test_the_palette_offers_a_receptionist_no_way_to_the_admin_screen(
    app_factory, staff, language: str, queries: tuple[str, ...]
) -> None:
    staff("reception@clinic.vn", locale=language)
    app = app_factory(lang=language)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(app, pilot, "reception@clinic.vn")
        assert app.screen.id == "today"
        # Every command the palette offers, before anything is typed.
        offered = await palette_hits(app, pilot, "")
        assert any(leads_to(command, "patients") for _text, command in offered), offered
        assert not any(leads_to(command, "admin") for _text, command in offered), offered
        await close_palette(app, pilot)
        for query in queries:
            hits = await palette_hits(app, pilot, query)
            assert not any(leads_to(command, "admin") for _text, command in hits), (query, hits)
            await pilot.press("enter")  # whatever the best hit is, it is not the admin screen
            await settle(app, pilot)
            await close_palette(app, pilot)
            assert app.screen.id == "today" and not opened(app, "admin"), query


@pytest.mark.parametrize(
    ("language", "role", "query", "destination"),
    [
        ("en", "ADMIN", "admin", "admin"),
        ("vi", "ADMIN", "quản trị", "admin"),
        ("vi", "RECEPTIONIST", "hóa đơn", "invoicing"),
    ],
)
async def test_the_same_palette_steps_open_the_screen_for_a_role_allowed_it(
    app_factory, staff, language: str, role: str, query: str, destination: str
) -> None:
    # The refusals here would prove nothing if the palette found nothing for anyone: for a
    # role allowed the screen, the same keystrokes find it and open it.
    staff("allowed@clinic.vn", role=role, locale=language)
    app = app_factory(lang=language)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(app, pilot, "allowed@clinic.vn")
        hits = await palette_hits(app, pilot, query)
        assert any(leads_to(command, destination) for _text, command in hits), hits
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.id == destination


async def test_an_admin_screen_forced_on_a_receptionist_shows_no_tab(app_factory, staff) -> None:
    staff("reception@clinic.vn")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(app, pilot, "reception@clinic.vn")
        screen = AdminScreen("migrations")
        await app.push_screen(screen)
        await settle(app, pilot)
        assert screen.visible_tabs() == []
        assert not screen.query("#admin-migrations") and not screen.query("#admin-backups")
        hits = await palette_hits(app, pilot, "migrat")
        assert hits == []


async def test_a_therapist_is_not_offered_invoicing(app_factory, staff) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn")
        start = app.screen.id
        assert "open('invoicing')" not in footer_actions(app)
        assert "open('terms')" in footer_actions(app)
        assert app.check_action("open", ("invoicing",)) is False
        await pilot.press("f5")
        await settle(app, pilot)
        assert app.screen.id == start and not opened(app, "invoicing")
        for query in ("invoic", "payment", "cash"):
            hits = await palette_hits(app, pilot, query)
            assert not any(leads_to(command, "invoicing") for _text, command in hits), hits
            await close_palette(app, pilot)
        await app.run_action("open('invoicing')")
        await settle(app, pilot)
        assert app.screen.id == start and not opened(app, "invoicing")
        # Behind the screen, the services refuse the signed-in therapist too.
        draft = InvoiceDraft(
            patient_id=uuid.uuid4(),
            service_date=date(2026, 7, 15),
            referred=True,
            lines=(("PT001", 1),),
        )
        with app.database.session() as session:
            with pytest.raises(PermissionDenied):
                billing.issue(session, app.actor, draft)
            with pytest.raises(PermissionDenied):
                billing.void(session, app.actor, uuid.uuid4(), reason="Sai", expected_version=1)


async def test_a_therapist_in_vietnamese_finds_no_invoicing_either(app_factory, staff) -> None:
    staff("doctor@clinic.vn", role="DOCTOR", locale="vi")
    app = app_factory(lang="vi")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn")
        offered = await palette_hits(app, pilot, "")
        assert any(leads_to(command, "terms") for _text, command in offered), offered
        assert not any(leads_to(command, "invoicing") for _text, command in offered), offered
        await close_palette(app, pilot)
        for query in ("hóa đơn", "hoa don", "thanh toán"):
            hits = await palette_hits(app, pilot, query)
            assert not any(leads_to(command, "invoicing") for _text, command in hits), hits
            await close_palette(app, pilot)
