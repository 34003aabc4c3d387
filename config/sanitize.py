"""NUL characters: PostgreSQL cannot store them; refuse them at the door with a 400."""

from django.http import JsonResponse
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NUL_MESSAGE = "Text may not contain NUL (\\x00) characters."


#: Deeper JSON is refused: no request body of this API nests more than a few levels, and deep
#: nesting (about 400 levels) overflowed the recursion of the serializers into a 500.
JSON_MAX_DEPTH = 32
DEPTH_MESSAGE = f"JSON may nest at most {JSON_MAX_DEPTH} levels deep."


def _has_nul(value) -> bool:
    """NUL in any key or string, at any depth (iterative: no recursion limit to hit)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def _depth(value) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > JSON_MAX_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class StrictJSONParser(JSONParser):
    """JSON, minus strings with NUL characters (they would reach the database as an error) and
    minus nesting deeper than ``JSON_MAX_DEPTH`` levels."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(DEPTH_MESSAGE) from None
        if _depth(data) > JSON_MAX_DEPTH:
            raise ParseError(DEPTH_MESSAGE)
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
