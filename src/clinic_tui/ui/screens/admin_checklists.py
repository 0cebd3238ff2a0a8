"""Check-in checklists (F9, tab "Check-in checklists"): the templates on top, the selected one's
items below, each in both languages. One template is in use at check-in (a); its items are added
(i), edited (e), retired or restored (d) and moved (k up, j down). New templates start unused, so
a checklist is built before the front desk sees it. Names and items are typed in dialogs that
the service checks field by field; an edit of something changed meanwhile is refused and the
tab reloads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from clinic_tui.i18n import N_, _, current_language, ngettext
from clinic_tui.ui.screens.admin import AdminPanel
from clinic_tui.ui.screens.admin_reference_forms import (
    ReferenceDialog,
    Said,
    failure,
    fill_table,
    label_columns,
)
from clinic_tui.ui.widgets.fields import ChoiceField, Field

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic_tui.services.access import Actor
    from clinic_tui.services.checklists import ItemRow, TemplateRow

TEMPLATE_COLUMNS = (N_("Name (English)"), N_("Name (Vietnamese)"), N_("At check-in"),
                    N_("Items"))  # fmt: skip
ITEM_COLUMNS = (N_("No."), N_("Item (English)"), N_("Item (Vietnamese)"), N_("Required"),
                N_("Status"))  # fmt: skip
REQUIRED_CHOICES = [(N_("Required: must be ticked to check in"), "yes"), (N_("Optional"), "no")]
CONFLICT = N_("Someone else changed this checklist meanwhile; it has been reloaded. Try again.")


def _name(row: TemplateRow) -> str:
    return row.name(current_language())


def _label(row: ItemRow) -> str:
    return row.label(current_language())


class TemplateDialog(ReferenceDialog):
    """A new template's names, or new names for one."""

    def __init__(self, row: TemplateRow | None = None) -> None:
        super().__init__()
        self.row = row

    def heading(self) -> str:
        if self.row is None:
            return _("New check-in checklist")
        return _("Rename checklist {name}").format(name=_name(self.row))

    def compose_fields(self) -> ComposeResult:
        yield Field(N_("Name (English)"), "name_en", max_length=200)
        yield Field(N_("Name (Vietnamese)"), "name_vi", max_length=200)

    def fill(self) -> None:
        if self.row is not None:
            self.query_one("#name_en", Input).value = self.row.name_en
            self.query_one("#name_vi", Input).value = self.row.name_vi

    def submit(self, session: Session, actor: Actor, arguments: dict[str, Any]) -> object:
        from clinic_tui.services import checklists

        if self.row is None:
            return checklists.create_template(session, actor, **arguments)
        return checklists.rename_template(session, actor, self.row.id, **arguments,
                                          expected_version=self.row.version)  # fmt: skip


class ItemDialog(ReferenceDialog):
    """A new item at the end of ``template``, or an edit of ``item``."""

    def __init__(self, template: TemplateRow, item: ItemRow | None = None) -> None:
        super().__init__()
        self.template, self.item = template, item

    def heading(self) -> str:
        if self.item is None:
            return _("New item in {name}").format(name=_name(self.template))
        return _("Edit item of {name}").format(name=_name(self.template))

    def compose_fields(self) -> ComposeResult:
        yield Field(N_("Item (English)"), "label_en", max_length=300)
        yield Field(N_("Item (Vietnamese)"), "label_vi", max_length=300)
        yield ChoiceField(N_("Required"), "required", REQUIRED_CHOICES)

    def fill(self) -> None:
        item = self.item
        self.query_one("#field-required", ChoiceField).set_value(
            "yes" if item is not None and item.required else "no"
        )
        if item is not None:
            self.query_one("#label_en", Input).value = item.label_en
            self.query_one("#label_vi", Input).value = item.label_vi

    def arguments(self, typed: dict[str, str], problems: dict[str, str]) -> dict[str, Any]:
        return {"label_en": typed["label_en"], "label_vi": typed["label_vi"],
                "required": typed["required"] != "no"}  # fmt: skip

    def submit(self, session: Session, actor: Actor, arguments: dict[str, Any]) -> object:
        from clinic_tui.services import checklists

        if self.item is None:
            return checklists.add_item(session, actor, self.template.id, **arguments,
                                       expected_version=self.template.version)  # fmt: skip
        return checklists.update_item(session, actor, self.item.id, **arguments,
                                      expected_version=self.item.version)  # fmt: skip


class ChecklistsPanel(AdminPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_template", N_("New checklist"), id="checklists.new"),
        Binding("t", "rename_template", N_("Rename checklist"), id="checklists.rename"),
        Binding("a", "toggle_in_use", N_("Use at check-in / stop"), id="checklists.in_use"),
        Binding("i", "new_item", N_("New item"), id="checklists.new_item"),
        Binding("e", "edit_item", N_("Edit item"), id="checklists.edit_item"),
        Binding("d", "toggle_item", N_("Retire / restore item"), id="checklists.toggle_item"),
        Binding("k", "move_item(-1)", N_("Move item up"), id="checklists.item_up"),
        Binding("j", "move_item(1)", N_("Move item down"), id="checklists.item_down"),
        Binding("r", "reload", N_("Refresh"), id="checklists.reload", show=False),
    ]

    class Loaded(Message):
        def __init__(self, templates: list[TemplateRow]) -> None:
            super().__init__()
            self.templates = templates

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.templates: list[TemplateRow] = []
        self._status: Callable[[], str] = lambda: ""
        self._template_id: uuid.UUID | None = None  # the template shown below, kept on reload
        self._follow: uuid.UUID | None = None  # an item to put the cursor on after a reload

    def compose(self) -> ComposeResult:
        yield Static(id="checklists-title", classes="panel-title")
        yield DataTable(id="checklists-templates", cursor_type="row", zebra_stripes=True)
        yield Static(id="checklists-items-title", classes="panel-title")
        yield DataTable(id="checklists-items", cursor_type="row", zebra_stripes=True)
        yield Static(id="checklists-status")

    def on_mount(self) -> None:
        for table_id, columns in (("templates", TEMPLATE_COLUMNS), ("items", ITEM_COLUMNS)):
            table = self.query_one(f"#checklists-{table_id}", DataTable)
            for index in range(len(columns)):
                table.add_column("", key=str(index))
        self.relabel()

    def shown(self) -> None:
        self._load()
        self.query_one("#checklists-templates", DataTable).focus()

    # ---- loading and showing ------------------------------------------------------------

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="checklists-load", exit_on_error=False)
    def _load(self) -> None:
        from clinic_tui.services import checklists

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                found = checklists.list_templates(session, self.app.actor)  # type: ignore[attr-defined]
        except Exception as error:
            self.post_message(Said(failure(error)))
            return
        self.post_message(self.Loaded(found))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.templates = message.templates
        self._render_tables()
        self.screen.refresh_bindings()

    def relabel(self) -> None:
        self.query_one("#checklists-title", Static).update(
            _("Check-in checklists: the one in use is asked when a patient checks in")
        )
        label_columns(self.query_one("#checklists-templates", DataTable), TEMPLATE_COLUMNS)
        label_columns(self.query_one("#checklists-items", DataTable), ITEM_COLUMNS)
        self._render_tables()
        self._say(self._status)

    def _render_tables(self) -> None:
        templates = self.query_one("#checklists-templates", DataTable)
        fill_table(templates, ((str(t.id), (
            t.name_en, t.name_vi,
            Text("✓ " + _("in use"), style="bold") if t.active else Text(_("not in use")),
            ngettext("{count} item", "{count} items", n := sum(i.active for i in t.items))
            .format(count=n),
        )) for t in self.templates))  # fmt: skip
        if self._template_id is not None:
            ids = [t.id for t in self.templates]
            if self._template_id in ids:
                templates.move_cursor(row=ids.index(self._template_id))
        self._render_items()

    def _render_items(self) -> None:
        template = self.selected_template()
        self._template_id = template.id if template else None
        title = _("Items of {name}").format(name=_name(template)) if template else ""
        self.query_one("#checklists-items-title", Static).update(title)
        items = self.query_one("#checklists-items", DataTable)
        fill_table(items, ((str(i.id), (
            str(number), i.label_en, i.label_vi,
            _("required") if i.required else _("optional"),
            _("Active") if i.active else Text(_("Retired"), style="dim"),
        )) for number, i in enumerate(template.items if template else (), 1)))  # fmt: skip
        if self._follow is not None and template is not None:
            ids = [i.id for i in template.items]
            if self._follow in ids:
                items.move_cursor(row=ids.index(self._follow))
            self._follow = None

    @on(DataTable.RowHighlighted, "#checklists-templates")
    def _template_highlighted(self) -> None:
        template = self.selected_template()
        if template is not None and template.id != self._template_id:
            self._render_items()
        self.screen.refresh_bindings()

    @on(DataTable.RowHighlighted, "#checklists-items")
    def _item_highlighted(self) -> None:
        self.screen.refresh_bindings()

    def _say(self, text: Callable[[], str]) -> None:
        self._status = text
        self.query_one("#checklists-status", Static).update(text())

    @on(Said)
    def _said(self, message: Said) -> None:
        message.stop()
        self._say(message.text)
        if message.reload:
            self._load()

    # ---- the selection ------------------------------------------------------------------

    def _key(self, table_id: str) -> str | None:
        table = self.query_one(f"#checklists-{table_id}", DataTable)
        if not table.row_count or not table.is_valid_row_index(table.cursor_row):
            return None
        return table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value

    def selected_template(self) -> TemplateRow | None:
        key = self._key("templates")
        return next((t for t in self.templates if str(t.id) == key), None)

    def selected_item(self) -> ItemRow | None:
        template, key = self.selected_template(), self._key("items")
        return next((i for i in template.items if str(i.id) == key), None) if template else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rename_template", "toggle_in_use", "new_item"):
            return self.selected_template() is not None
        if action in ("edit_item", "toggle_item", "move_item"):
            return self.selected_item() is not None
        return True

    # ---- changes ------------------------------------------------------------------------

    def _saved_template(self, row: TemplateRow | None) -> None:
        if row is not None:
            self._template_id = row.id
            self._say(lambda: _("Checklist saved: {name}.").format(name=_name(row)))
            self._load()

    def _saved_item(self, row: ItemRow | None) -> None:
        if row is not None:
            self._follow = row.id
            self._say(lambda: _("Item saved: {item}.").format(item=_label(row)))
            self._load()

    def action_new_template(self) -> None:
        self.app.push_screen(TemplateDialog(), self._saved_template)

    def action_rename_template(self) -> None:
        template = self.selected_template()
        if template is not None:
            self.app.push_screen(TemplateDialog(template), self._saved_template)

    def action_new_item(self) -> None:
        template = self.selected_template()
        if template is not None:
            self.app.push_screen(ItemDialog(template), self._saved_item)

    def action_edit_item(self) -> None:
        template, item = self.selected_template(), self.selected_item()
        if template is not None and item is not None:
            self.app.push_screen(ItemDialog(template, item), self._saved_item)

    @on(DataTable.RowSelected, "#checklists-items")
    def _item_chosen(self) -> None:
        self.action_edit_item()

    def action_toggle_in_use(self) -> None:
        template = self.selected_template()
        if template is None:
            return
        if template.active:
            done = N_("{name} is no longer used: check-in asks no checklist until one is in use.")
            operation = "deactivate_template"
        else:
            done = N_("{name} is now used at check-in.")
            operation = "activate_template"
        self._change(operation, lambda row: lambda: _(done).format(name=_name(row)),
                     template.id, expected_version=template.version)  # fmt: skip

    def action_toggle_item(self) -> None:
        item = self.selected_item()
        if item is None:
            return
        done = (N_("Item retired: {item}. Visits that answered it keep their answers.")
                if item.active else N_("Item restored: {item}."))  # fmt: skip
        self._follow = item.id
        self._change("set_item_active", lambda row: lambda: _(done).format(item=_label(row)),
                     item.id, active=not item.active, expected_version=item.version)  # fmt: skip

    def action_move_item(self, step: int) -> None:
        template, item = self.selected_template(), self.selected_item()
        if template is None or item is None:
            return
        order = [i.id for i in template.items]
        index = order.index(item.id)
        if not 0 <= index + step < len(order):
            return
        order[index], order[index + step] = order[index + step], order[index]
        self._follow = item.id
        self._change("reorder_items", lambda _row: lambda: _("Item moved: {item}.").format(
            item=_label(item)), template.id, order, expected_version=template.version)  # fmt: skip

    @work(thread=True, exclusive=True, group="checklists-change", exit_on_error=False)
    def _change(self, operation: str, done: Callable[[Any], Callable[[], str]], *args: object,
                **kwargs: object) -> None:  # fmt: skip
        from clinic_tui.services import checklists
        from clinic_tui.services.reference_checks import ReferenceConflict

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                run = getattr(checklists, operation)
                row = run(session, self.app.actor, *args, **kwargs)  # type: ignore[attr-defined]
        except ReferenceConflict:
            self.post_message(Said(lambda: _(CONFLICT), reload=True))
        except Exception as error:
            self.post_message(Said(failure(error), reload=True))
        else:
            self.post_message(Said(done(row), reload=True))
