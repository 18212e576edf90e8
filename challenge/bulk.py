"""Acting on several objects at once through the single-object service: each keeps its own
transaction, rules, audit entry and mails. One the rules refuse is reported with the reason,
and the others are still done (a batch is never half-applied to one object)."""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from challenge.errors import DomainError

T = TypeVar("T")


@dataclass
class BulkOutcome(Generic[T]):
    done: list[T] = field(default_factory=list)
    refused: list[tuple[T, str]] = field(default_factory=list)  # the object and why


async def each(items: Iterable[T], act: Callable[[T], Awaitable[object]]) -> BulkOutcome[T]:
    outcome: BulkOutcome[T] = BulkOutcome()
    for item in items:
        try:
            await act(item)
        except DomainError as error:
            outcome.refused.append((item, error.message))
        else:
            outcome.done.append(item)
    return outcome
