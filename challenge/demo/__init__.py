"""`challenge demo`: realistic Chinese demo data for every area of the platform.

Each area adds its part in its own module; `load()` runs them in the order of the flow.
"""

from challenge.demo.base import DEMO_PASSWORD, programme_office  # noqa: F401

# In the order of the flow: a race's stage deliverables come before its stage review.
AREAS = ("needs", "challenges", "bids", "deliverables", "reviews", "results", "delivery", "supply", "promotion")


async def load(settings) -> str:
    from challenge.accounts import passwords
    from challenge.accounts.models import User
    from challenge.demo import base

    passwords.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
    if await User.filter(email="admin@demo.cn").exists():
        return "demo data already loaded: nothing to do"
    ctx = await base.load()
    # Imported first, all of them: an area reacts to what a lower one does (the delivery area to
    # the results' announcements) once its modules are loaded.
    modules = [module for name in AREAS if (module := _area(name)) is not None]
    for module in modules:
        await module.load(ctx, settings)
    return "demo data loaded; sign in as admin@demo.cn with password " + DEMO_PASSWORD


def _area(name: str):
    import importlib

    try:
        return importlib.import_module(f"challenge.demo.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"challenge.demo.{name}":
            raise
        return None
