"""The API's error answers, documented once for every operation (a drf-spectacular
postprocessing hook, SPECTACULAR_SETTINGS' POSTPROCESSING_HOOKS).

Every error is JSON (loom.errors, loom.middleware) of one shape, the `Error` component. Each
operation lists the errors any request to it can get: 400 (a body, a query parameter or a Host
header Loom refuses), 401 and 403 where it authenticates (no or a bad credential, a role too low,
a missing CSRF token with a session), 404 where its path names something, 413 and 415 where it
takes a body. A view documents the other codes it answers (409, 429, 502, 503, ...); a response it
documents without a body gets `Error`'s. tests/security/test_fuzz.py holds every answer to this.
"""

ERROR = {
    "type": "object",
    "description": (
        "What was wrong. `detail` says it in a sentence. A body that fails validation names each "
        "field instead, with its messages (`{\"name\": [\"This field is required.\"]}`, nested for "
        "nested fields); a workflow graph that fails validation lists its problems in `errors`."
    ),
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/GraphError"}},
    },
    "additionalProperties": {"anyOf": [{"type": "array", "items": {}}, {"type": "object", "additionalProperties": {}}]},
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
DESCRIPTIONS = {
    "400": "The request is invalid; the body says why.",
    "401": "No valid credentials: none given, a wrong, expired or revoked token.",
    "403": "Not allowed: the role is too low for this, or a session request lacks its CSRF token.",
    "404": "Nothing at this path: no such tenant (or not a member of it), or no such object in it.",
    "413": "The request body is larger than the limit.",
    "415": "The body's media type is not one this operation takes.",
}


def _authenticates(operation: dict) -> bool:
    # drf-spectacular lists an empty requirement ({}) for views anyone may call, and none at all
    # for views without authentication classes (those cannot answer 401 or 403).
    return any(requirement for requirement in operation.get("security", []))


def _codes(path: str, operation: dict) -> list[str]:
    codes = ["400"]
    if _authenticates(operation):
        codes += ["401", "403"]
    if "{" in path:
        codes.append("404")
    if "requestBody" in operation:
        codes += ["413", "415"]
    return codes


def error_responses(result: dict, generator, request, public) -> dict:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for path, methods in result.get("paths", {}).items():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            for code in _codes(path, operation):
                responses.setdefault(code, {"description": DESCRIPTIONS[code]})
            for code, response in responses.items():
                if code[0] in "45" and "content" not in response:
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    return result
