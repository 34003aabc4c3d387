"""One exception handler shapes every API error.

Django ``ValidationError`` and ``PermissionDenied`` raised by services become 400 and 403 with
the service's message, so services never need to know about DRF.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            detail = exc.message_dict
        else:
            detail = {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    return drf_exception_handler(exc, context)


# --- the schema documents the errors every operation can answer ----------------------------------

ERROR_RESPONSES = {
    "400": "Bad input: the body names each field (or row) and why; nothing was written.",
    "401": "Not signed in (no session or token).",
    "403": "Your role may not do this.",
    "404": "Not found, or outside your scope.",
}
_ERROR_SCHEMA = {
    "type": "object",
    "description": 'Either {"detail": "..."} or {"<field>": ["..."]}; imports add {"errors": [...], "total": n}.',
    "additionalProperties": True,
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents 400, 401, 403 and 404 (the
    exception handler above shapes them), unless the view documents its own; the contract test
    fails on any status code the schema does not list."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
                )
    return result
