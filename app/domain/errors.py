"""Domain errors: each carries a stable message key and typed parameters for translation."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every error the app explains to the user.

    ``key`` is a stable message id (translated by the UI); ``template`` is the English text with
    ``{name}`` placeholders filled from ``params``.
    """

    key = "error.unexpected"
    template = "Unexpected error"

    def __init__(self, template: str | None = None, *, key: str | None = None, **params: Any) -> None:
        if template is not None:
            self.template = template
        if key is not None:
            self.key = key
        self.params = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        try:
            return self.template.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return self.template


class ValidationError(AppError):
    """An order or setting that breaks a rule; nothing was changed."""

    key = "error.validation"
    template = "Invalid input"


class IllegalTransition(AppError):
    """An order event that is impossible in the order's current status: a bug, never user input."""

    key = "error.illegal_transition"
    template = "Order {order_id}: event {event} is illegal in status {status}"


class VenueError(AppError):
    key = "error.venue"
    template = "The exchange reported an error: {detail}"


class TemporaryVenueError(VenueError):
    """Network trouble, rate limit, exchange busy: the only kind that is retried."""

    key = "error.venue_temporary"
    template = "The exchange is not reachable right now: {detail}"


class OrderRejected(VenueError):
    key = "error.order_rejected"
    template = "The exchange rejected the order: {detail}"


class InsufficientBalance(VenueError):
    key = "error.insufficient_balance"
    template = "Insufficient balance: {need} {asset} needed, {free} {asset} free"


class AuthenticationFailed(VenueError):
    key = "error.auth_failed"
    template = "The exchange refused the API key: {detail}"


class OrderNotFound(VenueError):
    key = "error.order_not_found"
    template = "The exchange does not know order {order_id}"
