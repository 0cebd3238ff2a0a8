"""Reference data (F9, tab "Reference data"): the price list, the BHYT object-code rules, and the
clinic's settings with the dated values behind the invoice split. Three sections, switched with
1, 2 and 3 (or the buttons on top; Esc goes back to them from a field). New rows and edits open
as dialogs (`admin_reference_forms`) that save themselves; the clinic's own settings are edited
in place (`admin_reference_settings`) and saved with s, or Ctrl+S while typing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import ContentSwitcher, DataTable, Input, RadioButton, RadioSet, Static

from clinic_tui.i18n import N_, _, current_language, format_date, format_money
from clinic_tui.ui.screens.admin import AdminPanel
from clinic_tui.ui.screens.admin_reference_forms import (
    DATED_SETTINGS,
    BhytRuleDialog,
    DatedValueDialog,
    Said,
    ServiceCodeDialog,
    category_label,
    failure,
    fill_table,
    label_columns,
)
from clinic_tui.ui.screens.admin_reference_settings import ClinicSettingsSection

if TYPE_CHECKING:
    from clinic_tui.services.reference import BhytRuleRow, ServiceCodeRow
    from clinic_tui.services.settings import ClinicInfo, DatedEntry

SECTIONS = (
    ("codes", N_("Service codes")),
    ("rules", N_("BHYT rules")),
    ("settings", N_("Clinic settings")),
)
CODE_COLUMNS = (
    N_("Code"),
    N_("Name (English)"),
    N_("Name (Vietnamese)"),
    N_("Category"),
    N_("Price"),
    N_("BHYT price"),
    N_("BHYT"),
    N_("Status"),
)
MEANING_WIDTH = 60
RULE_COLUMNS = (N_("Code"), N_("Level"), N_("Meaning"), N_("Confirmed"), N_("Valid"), N_("Status"))


def _mark(flag: bool) -> str:
    return "✓" if flag else "—"


def _status(active: bool) -> Text:
    return Text(_("Active")) if active else Text(_("Disabled"), style="dim")


def _money(amount: Any) -> Text:
    return Text("—" if amount is None else format_money(amount), justify="right")


def _span(rule: BhytRuleRow) -> str:
    if rule.active_from is None and rule.active_to is None:
        return ""
    start = format_date(rule.active_from) if rule.active_from else "…"
    return f"{start} – {format_date(rule.active_to) if rule.active_to else '…'}"


class ReferencePanel(AdminPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "section('codes')", N_("Service codes"), id="reference.codes", show=False),
        Binding("2", "section('rules')", N_("BHYT rules"), id="reference.rules", show=False),
        Binding(
            "3", "section('settings')", N_("Clinic settings"), id="reference.settings", show=False
        ),
        Binding("n", "new", N_("New"), id="reference.new"),
        Binding("e", "edit", N_("Edit"), id="reference.edit"),
        Binding("d", "toggle_rule", N_("Disable / enable"), id="reference.toggle"),
        Binding("s", "save_settings", N_("Save"), id="reference.save"),
        # Shown while typing in the settings form, where s is a letter.
        Binding("ctrl+s", "save_settings", N_("Save"), id="reference.save_typing", priority=True),
        Binding("slash", "filter", N_("Filter"), id="reference.filter", show=False),
        Binding("escape", "focus_sections", N_("Sections"), id="reference.sections", show=False),
    ]

    class Loaded(Message):
        def __init__(
            self,
            text: str,
            codes: list[ServiceCodeRow],
            rules: list[BhytRuleRow],
            clinic: ClinicInfo,
            history: dict[str, tuple[DatedEntry, ...]],
        ) -> None:
            super().__init__()
            self.text, self.codes, self.rules = text, codes, rules
            self.clinic, self.history = clinic, history

    class CodesFound(Message):
        def __init__(self, text: str, codes: list[ServiceCodeRow]) -> None:
            super().__init__()
            self.text, self.codes = text, codes

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.codes: list[ServiceCodeRow] = []
        self.rules: list[BhytRuleRow] = []
        self._status: Callable[[], str] = lambda: ""

    def compose(self) -> ComposeResult:
        with RadioSet(id="reference-sections"):
            for index, (key, _title) in enumerate(SECTIONS):
                yield RadioButton(id=f"reference-show-{key}", value=index == 0)
        with ContentSwitcher(id="reference-switcher", initial="reference-codes-section"):
            with Vertical(id="reference-codes-section"):
                yield Input(id="reference-code-filter", compact=True)
                yield DataTable(id="reference-codes", cursor_type="row", zebra_stripes=True)
            with Vertical(id="reference-rules-section"):
                yield DataTable(id="reference-rules", cursor_type="row", zebra_stripes=True)
            yield ClinicSettingsSection(id="reference-settings-section")
        yield Static(id="reference-status")

    def on_mount(self) -> None:
        for table_id, columns in (("codes", CODE_COLUMNS), ("rules", RULE_COLUMNS)):
            table = self.query_one(f"#reference-{table_id}", DataTable)
            for index in range(len(columns)):
                table.add_column("", key=str(index))
        # A meaning can run to a paragraph; the columns after it stay in view.
        meaning = self.query_one("#reference-rules", DataTable).ordered_columns[2]
        meaning.width, meaning.auto_width = MEANING_WIDTH, False
        self.relabel()

    # ---- sections -----------------------------------------------------------------------

    @property
    def section(self) -> str:
        current = self.query_one("#reference-switcher", ContentSwitcher).current or ""
        return current.removeprefix("reference-").removesuffix("-section")

    @property
    def settings(self) -> ClinicSettingsSection:
        return self.query_one(ClinicSettingsSection)

    def action_section(self, key: str) -> None:
        self.query_one(f"#reference-show-{key}", RadioButton).value = True

    @on(RadioSet.Changed, "#reference-sections")
    def _section_changed(self, event: RadioSet.Changed) -> None:
        key = (event.pressed.id or "").removeprefix("reference-show-")
        self.query_one("#reference-switcher", ContentSwitcher).current = f"reference-{key}-section"
        self._say(lambda: "")
        self.refresh_bindings()
        self._focus_section()

    def _focus_section(self) -> None:
        self.query_one(
            "#name" if self.section == "settings" else f"#reference-{self.section}"
        ).focus()

    def action_focus_sections(self) -> None:
        self.query_one("#reference-sections", RadioSet).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        section = self.section
        if action == "edit":
            return section == "codes" and bool(self.codes)
        if action == "toggle_rule":
            return section == "rules" and bool(self.rules)
        if action == "save_settings":
            return section == "settings"
        if action == "filter":
            return section == "codes"
        return True

    # ---- loading ------------------------------------------------------------------------

    def has_unsaved_changes(self) -> bool:
        return self.settings.has_unsaved_changes()

    def shown(self) -> None:
        self._reload()
        self._focus_section()

    def _reload(self) -> None:
        self._load(self.query_one("#reference-code-filter", Input).value)

    @work(thread=True, exclusive=True, group="reference-load", exit_on_error=False)
    def _load(self, text: str) -> None:
        from clinic_tui.services import reference

        actor = self.app.actor  # type: ignore[attr-defined]
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                loaded = self.Loaded(
                    text,
                    reference.list_service_codes(session, actor, text),
                    reference.list_bhyt_rules(session, actor),
                    reference.get_clinic_settings(session, actor),
                    {key: reference.dated_history(session, actor, key) for key in DATED_SETTINGS},
                )
        except Exception as error:
            self.post_message(Said(failure(error)))
            return
        self.post_message(loaded)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.rules = message.rules
        if message.text == self.query_one("#reference-code-filter", Input).value:
            self.codes = message.codes
        self.settings.show(message.clinic, message.history)
        self._render_tables()
        self.refresh_bindings()

    @on(Input.Changed, "#reference-code-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._find_codes(event.value)

    @on(Input.Submitted, "#reference-code-filter")
    def _filter_done(self) -> None:
        self.query_one("#reference-codes").focus()

    def action_filter(self) -> None:
        self.query_one("#reference-code-filter", Input).focus()

    @work(thread=True, exclusive=True, group="reference-codes", exit_on_error=False)
    def _find_codes(self, text: str) -> None:
        from clinic_tui.services import reference

        actor = self.app.actor  # type: ignore[attr-defined]
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                codes = reference.list_service_codes(session, actor, text)
        except Exception as error:
            self.post_message(Said(failure(error)))
            return
        self.post_message(self.CodesFound(text, codes))

    @on(CodesFound)
    def _codes_found(self, message: CodesFound) -> None:
        if message.text == self.query_one("#reference-code-filter", Input).value:
            self.codes = message.codes
            self._render_tables()
            self.refresh_bindings()

    # ---- showing ------------------------------------------------------------------------

    def relabel(self) -> None:
        buttons = self.query(RadioButton)
        for number, ((_key, title), button) in enumerate(zip(SECTIONS, buttons, strict=True), 1):
            button.label = f"{number} {_(title)}"
        self.query_one("#reference-code-filter", Input).placeholder = _(
            "Filter by code or name, with or without accents (/)"
        )
        label_columns(self.query_one("#reference-codes", DataTable), CODE_COLUMNS)
        label_columns(self.query_one("#reference-rules", DataTable), RULE_COLUMNS)
        self.settings.relabel()
        self._render_tables()
        self._say(self._status)

    def _render_tables(self) -> None:
        vietnamese = current_language() == "vi"
        codes = (
            (
                str(c.id),
                (
                    c.code,
                    c.name_en,
                    c.name_vi,
                    category_label(c.category),
                    _money(c.price),
                    _money(c.bhyt_price),
                    _mark(c.covered),
                    _status(c.active),
                ),
            )
            for c in self.codes
        )
        fill_table(self.query_one("#reference-codes", DataTable), codes)
        rules = (
            (
                str(r.id),
                (
                    r.object_code,
                    str(r.usual_level),
                    r.meaning_vi if vietnamese else r.meaning_en,
                    _mark(r.confirmed),
                    _span(r),
                    _status(r.active),
                ),
            )
            for r in self.rules
        )
        fill_table(self.query_one("#reference-rules", DataTable), rules)

    def _say(self, text: Callable[[], str]) -> None:
        self._status = text
        self.query_one("#reference-status", Static).update(text())

    @on(Said)
    def _said(self, message: Said) -> None:
        message.stop()
        self._say(message.text)
        if message.reload:
            self._reload()

    def _selected(self, table_id: str, rows: list[Any]) -> Any:
        table = self.query_one(f"#{table_id}", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return next((row for row in rows if str(row.id) == key), None)

    # ---- new rows, edits ----------------------------------------------------------------

    def _changed(self, text: Callable[[], str]) -> None:
        self._say(text)
        self._reload()

    def action_new(self) -> None:
        if self.section == "codes":
            self.app.push_screen(ServiceCodeDialog(), self._code_saved)
        elif self.section == "rules":
            self.app.push_screen(BhytRuleDialog(), self._rule_added)
        else:
            self.app.push_screen(DatedValueDialog(self.settings.dated_key()), self._value_added)

    def action_edit(self) -> None:
        row = self._selected("reference-codes", self.codes)
        if self.section == "codes" and row is not None:
            self.app.push_screen(ServiceCodeDialog(row), self._code_saved)

    @on(DataTable.RowSelected, "#reference-codes")
    def _code_chosen(self) -> None:
        self.action_edit()

    def _code_saved(self, row: ServiceCodeRow | None) -> None:
        if row is not None:
            name = row.name_vi if current_language() == "vi" else row.name_en
            self._changed(lambda: _("Saved: {code} {name}.").format(code=row.code, name=name))

    def _rule_added(self, rule: BhytRuleRow | None) -> None:
        if rule is not None:
            self._changed(lambda: _("Object code {code} added.").format(code=rule.object_code))

    def _value_added(self, entry: DatedEntry | None) -> None:
        if entry is not None:
            day = entry.effective_from
            self._changed(
                lambda: _("Value added, in force from {day}.").format(day=format_date(day))
            )

    def action_toggle_rule(self) -> None:
        from clinic_tui.ui.screens.confirm import ConfirmScreen

        rule = self._selected("reference-rules", self.rules)
        if self.section != "rules" or rule is None:
            return
        if rule.active:
            question = ConfirmScreen(
                N_("Disable object code {code}?"),
                N_(
                    "Cards with this object code will no longer be recognised, so visits get no "
                    "BHYT coverage. The rule is kept and can be enabled again."
                ),
                [("no", N_("Keep it")), ("yes", N_("Disable"))],
                code=rule.object_code,
            )
        else:
            question = ConfirmScreen(
                N_("Enable object code {code}?"),
                N_("Cards with this object code will be recognised again."),
                [("no", N_("Cancel")), ("yes", N_("Enable"))],
                code=rule.object_code,
            )

        def answered(choice: str | None) -> None:
            if choice == "yes":
                self._set_active(rule, not rule.active)

        self.app.push_screen(question, answered)

    @work(thread=True, exclusive=True, group="reference-rule", exit_on_error=False)
    def _set_active(self, rule: BhytRuleRow, active: bool) -> None:
        from clinic_tui.services import reference

        actor = self.app.actor  # type: ignore[attr-defined]
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                reference.set_bhyt_rule_active(session, actor, rule.id, active)
        except Exception as error:
            self.post_message(Said(failure(error)))
            return
        done = N_("Object code {code} enabled.") if active else N_("Object code {code} disabled.")
        self.post_message(Said(lambda: _(done).format(code=rule.object_code), reload=True))

    def action_save_settings(self) -> None:
        if self.section == "settings":
            self.settings.save()
