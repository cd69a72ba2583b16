from datetime import datetime

from django.conf import settings
from rest_framework import serializers

from deployments.models import Deployment
from deployments.selectors import deployment_next_runs, deployment_timing
from workflows import timetable


class DeploymentRequestSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, required=False, help_text="The version to deploy; the latest by default.")
    engine = serializers.ChoiceField(choices=["local", "airflow"], required=False,
                                     help_text="Where the schedule runs: `airflow` when Airflow is configured, else `local`.")
    max_active_runs = serializers.IntegerField(min_value=1, max_value=1000, required=False,
                                               help_text="Scheduled runs active at once on the local engine (default 16).")


class DeploymentPatchSerializer(serializers.Serializer):
    paused = serializers.BooleanField(help_text="true: the schedule starts no run; false: it does again.")


class DeploymentSerializer(serializers.ModelSerializer):
    workflow = serializers.IntegerField(source="workflow_id")
    version = serializers.IntegerField(source="version.number")
    deployed_by = serializers.CharField(source="deployed_by.username", allow_null=True, default=None)
    airflow_url = serializers.SerializerMethodField(help_text="The DAG in Airflow's UI.")
    schedule = serializers.SerializerMethodField(help_text="The deployed version's schedule (null: runs only when started).")
    schedule_text = serializers.SerializerMethodField(help_text="The schedule in words, e.g. 'At 02:00 (UTC)'.")
    catchup = serializers.SerializerMethodField()
    next_runs = serializers.SerializerMethodField(help_text="The next logical dates its schedule fires (none while paused).")

    class Meta:
        model = Deployment
        fields = ["workflow", "version", "engine", "paused", "max_active_runs", "schedule", "schedule_text", "catchup",
                  "next_runs", "dag_id", "status", "error", "requested_at", "deployed_at", "parse_seconds", "deployed_by",
                  "airflow_url"]
        read_only_fields = fields

    def get_airflow_url(self, deployment) -> str:
        if deployment.engine != "airflow" or not settings.LOOM_AIRFLOW_URL:
            return ""
        return f"{settings.LOOM_AIRFLOW_URL.rstrip('/')}/dags/{deployment.dag_id}"

    def get_schedule(self, deployment) -> str | None:
        return deployment_timing(deployment)["schedule"]

    def get_schedule_text(self, deployment) -> str:
        return timetable.describe(deployment_timing(deployment)["schedule"])

    def get_catchup(self, deployment) -> bool:
        return bool(deployment_timing(deployment)["catchup"])

    def get_next_runs(self, deployment) -> list[datetime]:
        return deployment_next_runs(deployment)
