"""The JSON log line (LOOM_LOG_FORMAT=json), shared by Django's LOGGING and gunicorn.conf.py:
{"time": ..., "level": ..., "logger": ..., "message": ..., plus any `extra` and exc_info}."""
JSON_FORMATTER = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
}
