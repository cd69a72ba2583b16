from rest_framework import serializers

from schedules.backfills import backfill_progress, date_state
from schedules.models import Backfill, BackfillDate, Reprocess


class BackfillRequestSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="The first logical date covered (inclusive).")
    end = serializers.DateTimeField(help_text="The last logical date covered (inclusive; at most now).")
    engine = serializers.ChoiceField(choices=["local", "airflow"], required=False,
                                     help_text="Default: the engine the workflow is deployed to, else local.")
    version = serializers.IntegerField(min_value=1, required=False,
                                       help_text="Default: the deployed version, else the latest.")
    max_active_runs = serializers.IntegerField(min_value=1, max_value=100, default=4,
                                               help_text="Runs of the backfill active at once.")
    reprocess = serializers.ChoiceField(choices=Reprocess.choices, default=Reprocess.NONE,
                                        help_text="Dates that have a run already: run none of them again, the failed "
                                                  "ones, or all (never one whose run is active).")
    dry_run = serializers.BooleanField(default=False, help_text="Only list the logical dates it would run.")


class PlannedDateSerializer(serializers.Serializer):
    logical_date = serializers.DateTimeField()
    data_interval_start = serializers.DateTimeField()
    data_interval_end = serializers.DateTimeField()
    existing_run = serializers.IntegerField(allow_null=True, help_text="The run of this date it reprocesses, if any.")
    existing_status = serializers.CharField(allow_null=True)


class DryRunSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    dates = PlannedDateSerializer(many=True)


class BackfillDateSerializer(serializers.ModelSerializer):
    run = serializers.IntegerField(source="run_id", allow_null=True)
    status = serializers.SerializerMethodField(help_text="queued (no run yet), cancelled, or its run's status.")

    class Meta:
        model = BackfillDate
        fields = ["logical_date", "data_interval_start", "data_interval_end", "run", "status"]

    def get_status(self, date) -> str:
        return date_state(date)


class BackfillSerializer(serializers.ModelSerializer):
    workflow = serializers.IntegerField(source="workflow_id")
    version = serializers.IntegerField(source="version.number")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    progress = serializers.SerializerMethodField(help_text="{status: number of dates}.")

    class Meta:
        model = Backfill
        fields = ["id", "workflow", "version", "engine", "start", "end", "reprocess", "max_active_runs", "status",
                  "error", "external_id", "created_by", "created_at", "ended_at", "progress"]

    def get_progress(self, backfill) -> dict[str, int]:
        return backfill_progress(backfill)


class BackfillDetailSerializer(BackfillSerializer):
    dates = BackfillDateSerializer(many=True, source="dates.all")

    class Meta(BackfillSerializer.Meta):
        fields = [*BackfillSerializer.Meta.fields, "dates"]
