from django.conf import settings
from rest_framework import serializers

from deployments.models import Deployment


class DeploymentRequestSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, required=False, help_text="The version to deploy; the latest by default.")


class DeploymentSerializer(serializers.ModelSerializer):
    workflow = serializers.IntegerField(source="workflow_id")
    version = serializers.IntegerField(source="version.number")
    deployed_by = serializers.CharField(source="deployed_by.username", allow_null=True, default=None)
    airflow_url = serializers.SerializerMethodField(help_text="The DAG in Airflow's UI.")

    class Meta:
        model = Deployment
        fields = ["workflow", "version", "dag_id", "status", "error", "requested_at", "deployed_at", "parse_seconds",
                  "deployed_by", "airflow_url"]

    def get_airflow_url(self, deployment) -> str:
        return f"{settings.LOOM_AIRFLOW_URL.rstrip('/')}/dags/{deployment.dag_id}" if settings.LOOM_AIRFLOW_URL else ""
