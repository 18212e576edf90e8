"""Tortoise ORM configuration shared by the app, the CLI and the tests."""

from challenge.settings import Settings, load_settings

MODEL_MODULES = [
    "challenge.accounts.models",
    "challenge.audit.models",
    "challenge.mail.models",
    "challenge.catalog.models",
    "challenge.files.models",
    "challenge.needs.models",
    "challenge.challenges.models",
    "challenge.bids.models",
    "challenge.reviews.models",
    "challenge.results.models",
    "challenge.delivery.models",
    "challenge.web.models",
]


def database_url(settings: Settings) -> str:
    url = settings.database_url
    if url.startswith(("postgres://", "postgresql://", "asyncpg://")) and "maxsize=" not in url:
        url += ("&" if "?" in url else "?") + f"maxsize={settings.db_pool_max}"
    return url


def tortoise_config(settings: Settings) -> dict:
    return {
        "connections": {"default": database_url(settings)},
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
