"""Settings: environment (CLINIC_*), then a TOML file in the user config dir, then defaults.

Command-line options are applied on top by `cli.py` through `Settings.with_overrides`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "clinic-tui"
# Times are shown in the clinic's zone whatever the machine's (servers often run in UTC).
CLINIC_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
Language = Literal["en", "vi"]


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    override = os.environ.get("CLINIC_CONFIG_FILE")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLINIC_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="postgresql+psycopg://user:pass@host:port/db; unset means the embedded server",
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    lang: Language = "en"
    theme: Literal["dark", "light"] = "dark"
    log_level: str = "INFO"
    backup_keep: int = Field(default=10, ge=1, description="how many backups to keep")

    @field_validator("lang", mode="before")
    @classmethod
    def _short_language(cls, value: Any) -> Any:
        # Accept what people type into an environment: "vi_VN", "VI", "vi-VN.UTF-8".
        if isinstance(value, str):
            return value.strip().lower()[:2] or "en"
        return value

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )

    @property
    def uses_embedded_server(self) -> bool:
        return not self.database_url

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    def with_overrides(self, **values: Any) -> Settings:
        given = {key: value for key, value in values.items() if value is not None}
        if not given:
            return self
        return Settings(**{**self.model_dump(), **given})
