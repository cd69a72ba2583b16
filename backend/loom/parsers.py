"""Request bodies. The API's JSON parser: bounded in depth, no lone surrogates
(loom.values), so such a body is a 400 naming the problem on every endpoint, never a
RecursionError or an encoding crash. Uploads: a multipart body over the size limit is refused
from its Content-Length, before any of it is read or spooled to disk. Both limits answer 413
in JSON (loom.errors)."""
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

from loom.values import json_body_problem

# A body nests its values a few levels deep (a graph's node parameters are 4 levels in), so
# values stay within loom.values.MAX_DEPTH and validation can still name node and field.
BODY_MAX_DEPTH = 64


class BoundedJSONParser(JSONParser):
    """JSON nested at most BODY_MAX_DEPTH deep and free of lone surrogates (json_body_problem);
    NaN and Infinity are refused as by DRF. DRF hands JSON parsers `request.body`, which
    Django has already bounded to DATA_UPLOAD_MAX_MEMORY_SIZE."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=strict_constant)
        except RecursionError:
            raise ParseError(f"JSON parse error - the body nests deeper than {BODY_MAX_DEPTH} levels.")
        except ValueError as e:  # UnicodeDecodeError and JSONDecodeError included
            raise ParseError(f"JSON parse error - {e}")
        problem = json_body_problem(data, max_depth=BODY_MAX_DEPTH)
        if problem:
            raise ParseError(f"JSON parse error - the body {problem}.")
        return data


class BodyLimitUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) covers
    form fields but not files, which it would spool to a temporary file whatever their size."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise RequestDataTooBig(f"Upload of {content_length} bytes refused before reading it.")

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None
