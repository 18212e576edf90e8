"""Domain errors raised by services. Handlers turn them into form errors or 4xx pages."""


class DomainError(Exception):
    """A rule refused the action. `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ({field: message} if field else {})


class PermissionDenied(DomainError):
    pass


class NotFound(DomainError):
    pass


class InvalidTransition(DomainError):
    pass
