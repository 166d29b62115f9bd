"""The one settings object: built once by the composition root and passed in."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

UNSAFE_SECRET = "dev-insecure-change-me"
# A valid Fernet key that is public knowledge: fine for development, refused in production.
UNSAFE_FERNET_KEY = "ZGV2LWluc2VjdXJlLWtleS0wMDAwMDAwMDAwMDAwMDA="


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Role(StrEnum):
    """Which parts one process runs: everything, only web, or only the scheduler."""

    ALL = "all"
    WEB = "web"
    SCHEDULER = "scheduler"


class NluBackend(StrEnum):
    BUILTIN = "builtin"
    RASA = "rasa"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOTSE_", env_file=".env", extra="ignore")

    mode: Mode = Mode.DEVELOPMENT
    role: Role = Role.ALL
    data_dir: Path = Path("var")
    database_url: str = ""
    db_pool_size: int = Field(
        default=8,
        description="Database connections per process, and so dialogue turns at once. More threads "
        "only fight over the GIL (20 gave a p99 of 1.5 s where 8 gave 20 ms); raise it for a slow, remote database",
    )
    public_url: str = "http://127.0.0.1:8000"

    secret_key: SecretStr = SecretStr(UNSAFE_SECRET)
    encryption_keys: SecretStr = Field(
        default=SecretStr(UNSAFE_FERNET_KEY),
        description="Comma-separated Fernet keys; the first encrypts, all decrypt (rotation).",
    )

    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_bot_username: str = "LotseBot"
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_max_rate: int = Field(
        default=30, description="Messages per second this process sends to Telegram (Telegram's bot limit)"
    )

    nlu_backend: NluBackend = NluBackend.BUILTIN
    nlu_model_path: Path | None = None
    nlu_threshold: float = 0.35
    nlu_margin: float = 0.08
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_s: float = 2.0

    content_dir: Path | None = None
    auto_migrate: bool = Field(default=True, description="Upgrade the schema at start-up")
    sync_content_on_start: bool = Field(default=True, description="Load municipalities, teams, rules, consent texts")
    demo_availability: bool | None = Field(
        default=None, description="Seed demo hours for teams without any (default: only in development)"
    )
    json_logs: bool = False
    log_level: str = "INFO"

    retention_conversation_days: int = 30
    retention_closed_intake_days: int = 90
    reply_copy_minutes: int = Field(
        default=60, description="Keep an undelivered reply copy this long for a channel's redelivery"
    )
    replay_key_days: int = Field(default=7, description="Remember handled update ids this long")
    outbox_lease_seconds: int = Field(
        default=300, description="A reminder claimed this long ago by a worker that died is taken over"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token required by /metrics (unset: open, for internal networks)"
    )

    @model_validator(mode="after")
    def _refuse_unsafe_secrets(self) -> Settings:
        if self.mode is Mode.PRODUCTION:
            if self.secret_key.get_secret_value() == UNSAFE_SECRET:
                raise ValueError("LOTSE_SECRET_KEY must be set in production")
            if UNSAFE_FERNET_KEY in self.encryption_keys.get_secret_value().split(","):
                raise ValueError("LOTSE_ENCRYPTION_KEYS must be set in production")
            if self.telegram_token and not self.telegram_webhook_secret:
                raise ValueError("LOTSE_TELEGRAM_WEBHOOK_SECRET must be set in production")
        return self

    @property
    def seeds_demo_availability(self) -> bool:
        if self.demo_availability is None:
            return self.mode is Mode.DEVELOPMENT
        return self.demo_availability

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'lotse.db').resolve()}"

    @property
    def resolved_nlu_model_path(self) -> Path:
        return self.nlu_model_path or self.data_dir / "nlu-model.joblib"
