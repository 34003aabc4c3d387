"""NUL characters: PostgreSQL cannot store them; refuse them at the door with a 400."""

from django.http import JsonResponse
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NUL_MESSAGE = "Text may not contain NUL (\\x00) characters."


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class StrictJSONParser(JSONParser):
    """JSON, minus strings with NUL characters (they would reach the database as an error)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if _has_nul(data):
            raise ParseError(NUL_MESSAGE)
        return data


class RejectNulMiddleware:
    """A NUL character in a query parameter or form field gets a 400, on pages and the API alike."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        content_type = request.META.get("CONTENT_TYPE", "")
        fields = list(request.GET.lists())
        if request.method == "POST" and content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            fields += list(request.POST.lists())
        if "\x00" in request.path or any(_has_nul(k) or _has_nul(v) for k, v in fields):
            # Fits both error shapes the API documents: {"detail"} and the import's {"errors", "total"}.
            error = {"row": 0, "column": "", "value": "", "reason": NUL_MESSAGE}
            return JsonResponse({"detail": NUL_MESSAGE, "errors": [error], "total": 1}, status=400)
        return self.get_response(request)
