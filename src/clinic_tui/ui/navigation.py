"""Where each screen lives, which key opens it, and who may open it (DESIGN §6).

Only screens that exist are listed: a key appears in the footer, the help screen and the
command palette once its screen is built and the signed-in role may use it.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from functools import cache

from clinic_tui.i18n import N_
from clinic_tui.services.access import Actor, Permission


@dataclass(frozen=True)
class Destination:
    id: str
    key: str | None
    title: str  # msgid
    help: str  # msgid
    permission: Permission
    screen: str  # "module:Class", imported when first opened

    def load(self) -> type:
        module, _sep, name = self.screen.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]

    @property
    def built(self) -> bool:
        """Whether the screen's module exists in this installation (found, not imported)."""
        return module_exists(self.screen.partition(":")[0])


@cache
def module_exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


DESTINATIONS: tuple[Destination, ...] = (
    Destination(
        "today",
        "f1",
        N_("Today"),
        N_("The day's appointments: check in, no-show, complete"),
        Permission.SCHEDULE_READ,
        "clinic_tui.ui.screens.today:TodayScreen",
    ),
    Destination(
        "patients",
        "f3",
        N_("Patients"),
        N_("Find a patient by name, phone, code or card; register a new one"),
        Permission.PATIENT_READ,
        "clinic_tui.ui.screens.patients:PatientsScreen",
    ),
    Destination(
        "schedule",
        "f4",
        N_("Availability"),
        N_("Doctors × slots for a day, a doctor's week, booking"),
        Permission.SCHEDULE_READ,
        "clinic_tui.ui.screens.schedule_grid:ScheduleScreen",
    ),
    Destination(
        "invoicing",
        "f5",
        N_("Invoicing"),
        N_("Invoices with the BHYT split, payments, receipts, the day's cash"),
        Permission.INVOICE_WRITE,
        "clinic_tui.ui.screens.invoicing:InvoicingScreen",
    ),
    Destination(
        "terms",
        "f6",
        N_("Medical terms"),
        N_("Look up a term in English or Vietnamese, with or without accents"),
        Permission.LOOKUP,
        "clinic_tui.ui.screens.terms:TermsScreen",
    ),
    Destination(
        "protocols",
        "f7",
        N_("Protocols"),
        N_("Treatment protocols by diagnosis: goals and exercises by phase"),
        Permission.LOOKUP,
        "clinic_tui.ui.screens.protocols:ProtocolsScreen",
    ),
    Destination(
        "admin",
        "f9",
        N_("Administration"),
        N_("Staff, reference data, settings, migrations, backups"),
        Permission.DATABASE_ADMIN,
        "clinic_tui.ui.screens.admin:AdminScreen",
    ),
    Destination(
        "home",
        None,
        N_("Home"),
        N_("Start page: who you are, the database"),
        Permission.LOOKUP,
        "clinic_tui.ui.screens.home:HomeScreen",
    ),
)


def allowed(actor: Actor | None) -> list[Destination]:
    """The built screens this person may open, in key order."""
    if actor is None:
        return []
    return [d for d in DESTINATIONS if d.built and actor.can(d.permission)]


def by_id(destination_id: str) -> Destination:
    return next(d for d in DESTINATIONS if d.id == destination_id)


def landing(actor: Actor | None) -> Destination:
    """Where a person lands after signing in: the day's list when it exists, else home."""
    choices = allowed(actor)
    return next((d for d in choices if d.id == "today"), by_id("home"))
