"""The one place Loom talks to Airflow's REST API (apache-airflow-client 3.x).

`airflow_client()` gives a process-wide client configured from the environment (settings
LOOM_AIRFLOW_URL, _USERNAME, _PASSWORD, _TIMEOUT_S). Its attributes are the client's API
classes (`client.dags`, `client.dag_runs`, `client.task_instances`, ...) with every call:
- authenticated with a token from `POST /auth/token`, fetched once and fetched again when
  Airflow answers 401 (the token expired, or Airflow restarted with another secret);
- bounded by a timeout, and retried (connecting only) twice with a short back-off;
- failing with AirflowUnavailable (the run API answers 503 with its message) when Airflow
  cannot be reached or refuses Loom's credentials, and with AirflowError (its status and
  detail) when Airflow answers a request with an error.
"""
import json
import re
import threading
from functools import cache

import urllib3
from airflow_client import client as ac
from django.conf import settings

from loom.errors import Unavailable, UpstreamFailed

APIS = {
    "dags": ac.DAGApi,
    "dag_runs": ac.DagRunApi,
    "dag_sources": ac.DagSourceApi,
    "dag_parsing": ac.DAGParsingApi,
    "import_errors": ac.ImportErrorApi,
    "task_instances": ac.TaskInstanceApi,
    "xcoms": ac.XComApi,
    "pools": ac.PoolApi,
    "connections": ac.ConnectionApi,
    "variables": ac.VariableApi,
    "monitor": ac.MonitorApi,
}


class AirflowUnavailable(Unavailable):
    """Airflow is not configured here, cannot be reached, or refuses Loom's credentials (503).
    The Airflow engine raises it to runs as runs.engines.EngineUnavailable, with the same message."""


class AirflowError(UpstreamFailed):
    """Airflow answered with an error status."""

    def __init__(self, status: int, detail: str, what: str = ""):
        self.status, self.detail, self.what = status, detail, what
        super().__init__(f"Airflow answered {status}{f' to {what}' if what else ''}: {detail}")

    def __reduce__(self):  # Celery pickles a task's exception
        return type(self), (self.status, self.detail, self.what)


def airflow_config_problem() -> str:
    """'' when this installation has an Airflow; else what is missing, as a sentence."""
    missing = [name for name in ("LOOM_AIRFLOW_URL", "LOOM_AIRFLOW_DAGS_DIR") if not getattr(settings, name)]
    if not missing:
        return ""
    return (f"The 'airflow' engine is not configured on this Loom installation (set {' and '.join(missing)}; "
            "see README, Running on Airflow); use 'local'.")


def airflow_client() -> "AirflowClient":
    """The client of the configured Airflow; AirflowUnavailable when none is configured."""
    problem = airflow_config_problem()
    if problem:
        raise AirflowUnavailable(problem)
    return _client(settings.LOOM_AIRFLOW_URL.rstrip("/"), settings.LOOM_AIRFLOW_USERNAME,
                   settings.LOOM_AIRFLOW_PASSWORD, settings.LOOM_AIRFLOW_TIMEOUT_S)


@cache
def _client(url: str, username: str, password: str, timeout: float) -> "AirflowClient":
    return AirflowClient(url=url, username=username, password=password, timeout=timeout)


class AirflowClient:
    def __init__(self, *, url: str, username: str, password: str, timeout: float):
        self.url, self.username, self.password = url, username, password
        self.timeout = (min(3.0, timeout), timeout)  # (connect, read)
        config = ac.Configuration(host=url)
        # Retry only what never reached Airflow: a refused or timed-out connection.
        config.retries = urllib3.Retry(total=2, connect=2, read=0, status=0, redirect=0, backoff_factor=0.2)
        config.connection_pool_maxsize = 8
        self._api = ac.ApiClient(config)
        self._config = config
        self._lock = threading.Lock()
        for name, api in APIS.items():
            setattr(self, name, _Api(self, api(self._api)))

    def check(self) -> None:
        """Raise AirflowUnavailable unless Airflow answers and accepts Loom's credentials."""
        if self.username:
            self._token()
            return
        try:
            self.monitor.get_health()
        except AirflowError as e:
            raise AirflowUnavailable(f"Airflow at {self.url} is not healthy: {e}") from e

    def _token(self, *, refresh: bool = False) -> None:
        with self._lock:
            if self._config.access_token and not refresh:
                return
            if not self.username:
                return  # an Airflow that needs no token (simple auth manager, all admins)
            try:
                response = self._api.rest_client.pool_manager.request(
                    "POST", f"{self.url}/auth/token", body=json.dumps({"username": self.username, "password": self.password}),
                    headers={"Content-Type": "application/json"}, timeout=urllib3.Timeout(*self.timeout))
            except (urllib3.exceptions.HTTPError, OSError) as e:
                raise self._unreachable(e) from e
            if response.status in (401, 403):
                raise AirflowUnavailable(f"Airflow at {self.url} refused Loom's credentials (LOOM_AIRFLOW_USERNAME / "
                                         f"LOOM_AIRFLOW_PASSWORD): {response.status}.")
            try:
                self._config.access_token = json.loads(response.data)["access_token"]
            except (ValueError, KeyError, TypeError):
                raise AirflowUnavailable(f"Airflow at {self.url} gave no token (HTTP {response.status}): "
                                         f"{response.data[:200]!r}. Is LOOM_AIRFLOW_URL Airflow's API server?")

    def _call(self, method, what: str, args, kwargs):
        for attempt in (1, 2):
            self._token()
            try:
                return method(*args, _request_timeout=self.timeout, **kwargs)
            except ac.ApiException as e:
                if e.status == 401 and attempt == 1:
                    self._token(refresh=True)
                    continue
                raise AirflowError(e.status or 0, _detail(e), what) from e
            except (urllib3.exceptions.HTTPError, OSError) as e:
                raise self._unreachable(e) from e

    def _unreachable(self, error: Exception) -> AirflowUnavailable:
        reason = str(getattr(error, "reason", None) or error)
        # urllib3 says "HTTPConnection(host='h', port=1): Failed to establish ..."; the URL is named already.
        reason = re.sub(r"^HTTPS?Connection\(host=[^)]*\): ", "", reason)
        return AirflowUnavailable(f"Airflow at {self.url} is unreachable: {reason}")


def paged(list_call, field: str, page: int = 100, **filters) -> list:
    """Every item of a list endpoint of Airflow's API, a page of `page` (Airflow's largest by
    default) at a time: paged(client.dags.get_dags, "dags", dag_id_prefix_pattern="loom__")."""
    items, offset = [], 0
    while True:
        response = list_call(limit=page, offset=offset, **filters)
        found = getattr(response, field)
        items += found
        offset += len(found)
        if not found or offset >= response.total_entries:
            return items


class _Api:
    """One API class of apache-airflow-client, its methods called through AirflowClient._call."""

    def __init__(self, client: AirflowClient, api):
        self._client, self._api = client, api

    def __getattr__(self, name):
        method = getattr(self._api, name)
        what = f"{type(self._api).__name__}.{name}"
        return lambda *args, **kwargs: self._client._call(method, what, args, kwargs)


def _detail(error: "ac.ApiException") -> str:
    try:
        detail = json.loads(error.body).get("detail", error.body)
    except (TypeError, ValueError, AttributeError):
        detail = error.body or error.reason
    return detail if isinstance(detail, str) else json.dumps(detail)
