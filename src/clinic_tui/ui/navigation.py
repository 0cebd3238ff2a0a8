"""Where each screen lives, which key opens it, and who may open it (DESIGN §6).

Only screens that exist are listed: a key appears in the footer, the help screen and the
command palette once its screen is built and the signed-in role may use it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

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


DESTINATIONS: tuple[Destination, ...] = (
    Destination(
        "home",
        "f1",
        N_("Home"),
        N_("Start page: who you are, the database"),
        Permission.LOOKUP,
        "clinic_tui.ui.screens.home:HomeScreen",
    ),
)


def allowed(actor: Actor | None) -> list[Destination]:
    if actor is None:
        return []
    return [destination for destination in DESTINATIONS if actor.can(destination.permission)]


def by_id(destination_id: str) -> Destination:
    return next(d for d in DESTINATIONS if d.id == destination_id)
