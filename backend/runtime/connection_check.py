"""Try one connection, from inside a notebook sandbox: the program `runtime.oneshot` runs there.

Standard library plus the drivers of the notebook environment (psycopg, pymysql, boto3); no
Loom, no Django. Reads the connection as JSON on stdin (never on a command line), prints one
JSON line {"ok": bool, "message": str} on stdout. PostgreSQL and MySQL: a real connect and
SELECT; HTTP: a GET of the base URL (with the connection's basic auth or token); S3: a list of
the bucket (or of the buckets); generic: a TCP connect to host:port. The caller scrubs the
connection's secrets from the message: a server's answer may echo them.
"""
import base64
import json
import socket
import sys
import urllib.error
import urllib.request


def check(c: dict, timeout: float) -> str:
    """What the server answered (success); raises with the error otherwise."""
    kind, host, port = c["kind"], c.get("host") or "", c.get("port")
    extra = c.get("extra") or {}
    if kind == "postgres":
        import psycopg

        with psycopg.connect(host=host, port=port or 5432, user=c.get("login") or None, password=c.get("secret") or None,
                             dbname=c.get("schema") or None, connect_timeout=max(1, int(timeout))) as conn:
            version = conn.execute("SELECT current_setting('server_version')").fetchone()[0]
        return f"Connected to PostgreSQL {version} at {host}:{port or 5432}."
    if kind == "mysql":
        import pymysql

        conn = pymysql.connect(host=host, port=port or 3306, user=c.get("login") or None, password=c.get("secret") or "",
                               database=c.get("schema") or None, connect_timeout=timeout, read_timeout=timeout)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT VERSION()")
                version = cursor.fetchone()[0]
        finally:
            conn.close()
        return f"Connected to MySQL {version} at {host}:{port or 3306}."
    if kind == "http":
        return _http(c, extra, timeout)
    if kind == "s3":
        return _s3(c, extra, timeout)
    if not host or not port:
        raise ValueError("A generic connection is tested by connecting to its host and port: set both.")
    socket.create_connection((host, port), timeout=timeout).close()
    return f"Connected to {host}:{port} (TCP)."


def _http(c: dict, extra: dict, timeout: float) -> str:
    host, port = c.get("host") or "", c.get("port")
    if not host:
        raise ValueError("Set the host (a base URL such as https://api.example.com/v1/).")
    url = host if "://" in host else f"https://{host}"
    if port and "://" not in host:
        url = f"{url}:{port}"
    request = urllib.request.Request(url, headers={"User-Agent": "Loom connection test"})
    if extra.get("token"):
        request.add_header("Authorization", f"Bearer {extra['token']}")
    elif c.get("login"):
        pair = f"{c['login']}:{c.get('secret') or ''}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
    if extra.get("api_key"):
        request.add_header("X-API-Key", extra["api_key"])
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return f"HTTP {answer.status} from {url}."
    except urllib.error.HTTPError as e:
        body = e.read(300).decode(errors="replace").strip()
        raise RuntimeError(f"HTTP {e.code} {e.reason} from {url}" + (f": {body}" if body else "")) from None


def _s3(c: dict, extra: dict, timeout: float) -> str:
    import boto3
    from botocore.config import Config

    host = c.get("host") or ""
    endpoint = (host if "://" in host else f"https://{host}") if host else None
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name=extra.get("region_name") or None,
        aws_access_key_id=extra.get("aws_access_key_id") or None,
        aws_secret_access_key=extra.get("aws_secret_access_key") or None,
        aws_session_token=extra.get("aws_session_token") or None,
        config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1}))
    bucket = c.get("schema") or ""
    if bucket:
        found = client.list_objects_v2(Bucket=bucket, MaxKeys=5).get("KeyCount", 0)
        return f"Listed bucket {bucket}: {found} object(s) seen (at most 5 asked)."
    return f"Listed {len(client.list_buckets().get('Buckets', []))} bucket(s)."


def main() -> None:
    c = json.loads(sys.stdin.read())
    try:
        answer = {"ok": True, "message": check(c, float(c.get("timeout") or 10))}
    except Exception as e:  # noqa: BLE001 - every failure is the answer
        answer = {"ok": False, "message": f"{type(e).__name__}: {e}".strip()}
    print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
