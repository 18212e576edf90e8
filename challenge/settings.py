"""Typed settings read from CHALLENGE_* environment variables, with laptop defaults."""

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_ROOT = Path(__file__).resolve().parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
LOCALE_DIR = PACKAGE_ROOT / "locale"

DEFAULT_ALLOWED_TYPES = "pdf,doc,docx,xls,xlsx,ppt,pptx,png,jpg,gif,webp,zip"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CHALLENGE_{name}", default)


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(data_dir: Path, name: str = "SECRET_KEY") -> str:
    """Use the configured key, or one generated once and kept in the data folder.

    A generated key survives restarts on a laptop; production sets CHALLENGE_SECRET_KEY (and
    CHALLENGE_AUDIT_KEY) so that every app server uses the same keys.
    """
    configured = _env(name, "")
    if configured:
        return configured
    key_file = data_dir / name.lower()
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    upload_dir: Path
    # Keys the audit chain (HMAC): kept outside the database, so rows rewritten there do not verify.
    audit_key: str = ""
    max_upload_mb: int = 200
    allowed_upload_types: tuple[str, ...] = tuple(DEFAULT_ALLOWED_TYPES.split(","))
    # Archives (ZIP, and OOXML documents, which are ZIPs) are refused beyond these, as zip bombs.
    max_expanded_mb: int = 1024
    max_compression_ratio: int = 200
    base_url: str = "http://127.0.0.1:8000"
    secure_cookies: bool = False
    session_max_age: int = 8 * 3600  # absolute lifetime of a signed-in session, in seconds
    session_idle_minutes: int = 60  # a session unused this long ends
    db_pool_max: int = 10
    default_locale: str = "zh_CN"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "揭榜挂帅平台 <noreply@challenge.local>"
    mail_dir: Path | None = None
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_label: str = ""  # the button names the provider; empty: a generic translated label
    login_max_failures: int = 5
    login_window_minutes: int = 15
    password_reset_hours: int = 2
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    notice_working_days: int = 5
    milestone_reminder_days: int = 7  # teams are reminded this many days before a milestone is due
    storage_backend: str = "local"
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = "us-east-1"
    log_format: str = "text"
    debug: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)


def load_settings() -> Settings:
    data_dir = Path(_env("DATA_DIR", str(PROJECT_ROOT / "data"))).resolve()
    upload_dir = Path(_env("UPLOAD_DIR", str(data_dir / "uploads"))).resolve()
    database_url = _env("DATABASE_URL", f"sqlite:///{data_dir / 'challenge.sqlite3'}")
    mail_dir = _env("MAIL_DIR", "")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=_secret_key(data_dir),
        audit_key=_secret_key(data_dir, "AUDIT_KEY"),
        upload_dir=upload_dir,
        max_upload_mb=int(_env("MAX_UPLOAD_MB", "200")),
        allowed_upload_types=tuple(
            t.strip().lower() for t in _env("ALLOWED_UPLOAD_TYPES", DEFAULT_ALLOWED_TYPES).split(",") if t.strip()
        ),
        max_expanded_mb=int(_env("MAX_EXPANDED_MB", "1024")),
        max_compression_ratio=int(_env("MAX_COMPRESSION_RATIO", "200")),
        base_url=_env("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        secure_cookies=_env_bool("SECURE_COOKIES", False),
        session_max_age=int(_env("SESSION_MAX_AGE", str(8 * 3600))),
        session_idle_minutes=int(_env("SESSION_IDLE_MINUTES", "60")),
        db_pool_max=int(_env("DB_POOL_MAX", "10")),
        default_locale=_env("DEFAULT_LOCALE", "zh_CN"),
        smtp_host=_env("SMTP_HOST", ""),
        smtp_port=int(_env("SMTP_PORT", "25")),
        smtp_user=_env("SMTP_USER", ""),
        smtp_password=_env("SMTP_PASSWORD", ""),
        smtp_starttls=_env_bool("SMTP_STARTTLS", False),
        mail_from=_env("MAIL_FROM", "揭榜挂帅平台 <noreply@challenge.local>"),
        mail_dir=Path(mail_dir) if mail_dir else data_dir / "outbox",
        oidc_issuer=_env("OIDC_ISSUER", ""),
        oidc_client_id=_env("OIDC_CLIENT_ID", ""),
        oidc_client_secret=_env("OIDC_CLIENT_SECRET", ""),
        oidc_label=_env("OIDC_LABEL", ""),
        login_max_failures=int(_env("LOGIN_MAX_FAILURES", "5")),
        login_window_minutes=int(_env("LOGIN_WINDOW_MINUTES", "15")),
        notice_working_days=int(_env("NOTICE_WORKING_DAYS", "5")),
        milestone_reminder_days=int(_env("MILESTONE_REMINDER_DAYS", "7")),
        argon2_time_cost=int(_env("ARGON2_TIME_COST", "3")),
        argon2_memory_kib=int(_env("ARGON2_MEMORY_KIB", "65536")),
        password_reset_hours=int(_env("PASSWORD_RESET_HOURS", "2")),
        storage_backend=_env("STORAGE", "local"),
        s3_endpoint=_env("S3_ENDPOINT", ""),
        s3_bucket=_env("S3_BUCKET", ""),
        s3_access_key=_env("S3_ACCESS_KEY", ""),
        s3_secret_key=_env("S3_SECRET_KEY", ""),
        s3_region=_env("S3_REGION", "us-east-1"),
        log_format=_env("LOG_FORMAT", "text").strip().lower(),
        debug=_env_bool("DEBUG", False),
    )
