"""Tortoise ORM configuration shared by the app, the CLI and the tests."""

from tortoise.backends.base.config_generator import expand_db_url

from challenge.settings import Settings, load_settings
from challenge.sqlite_backend import BUSY_TIMEOUT_MS

MODEL_MODULES = [
    "challenge.accounts.models",
    "challenge.audit.models",
    "challenge.mail.models",
    "challenge.catalog.models",
    "challenge.files.models",
    "challenge.needs.models",
    "challenge.challenges.models",
    "challenge.follow.models",
    "challenge.bids.models",
    "challenge.reviews.models",
    "challenge.results.models",
    "challenge.delivery.models",
    "challenge.supply.models",
    "challenge.promotion.models",
    "challenge.web.models",
]


def database_url(settings: Settings) -> str:
    url = settings.database_url
    if url.startswith(("postgres://", "postgresql://", "asyncpg://")) and "maxsize=" not in url:
        url += ("&" if "?" in url else "?") + f"maxsize={settings.db_pool_max}"
    return url


def connection_config(url: str) -> str | dict:
    """The connection for a database URL: SQLite through our engine, whose transactions wait for
    the other processes' (challenge/sqlite_backend.py); any other database as its URL says."""
    if not url.startswith("sqlite:"):
        return url
    config = expand_db_url(url)
    config["engine"] = "challenge.sqlite_backend"
    config["credentials"].setdefault("busy_timeout", BUSY_TIMEOUT_MS)
    return config


def tortoise_config(settings: Settings) -> dict:
    return {
        "connections": {"default": connection_config(database_url(settings))},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "challenge.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "asyncpg://"))


def __getattr__(name: str):
    # `tortoise -c challenge.db.TORTOISE_ORM makemigrations` reads this attribute.
    if name == "TORTOISE_ORM":
        return tortoise_config(load_settings())
    raise AttributeError(name)
