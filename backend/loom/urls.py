from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as accounts
from alerts import views as alerts
from audit import views as audit
from catalog import views as catalog
from dags import views as dags
from deployments import views as deployments
from ops import platform
from runs import views as runs
from schedules import views as schedules
from runs import views_history as runs_history
from tenancy import views as tenancy
from web import urls as web
from workflows import views as workflows

# Everything under tenants/<tenant>/ is tenant-scoped; tests/test_isolation.py walks these
# patterns, so a new endpoint is covered by the isolation tests without being listed anywhere.
tenant_api = [
    path("", tenancy.TenantDetailView.as_view(), name="tenant-detail"),
    path("members/", tenancy.MemberListView.as_view(), name="member-list"),
    path("members/<int:member_id>/", tenancy.MemberDetailView.as_view(), name="member-detail"),
    path("invitations/", tenancy.InvitationListView.as_view(), name="invitation-list"),
    path("invitations/<int:invitation_id>/", tenancy.InvitationDetailView.as_view(), name="invitation-detail"),
    path("connections/", tenancy.ConnectionListView.as_view(), name="connection-list"),
    path("connections/<int:connection_id>/", tenancy.ConnectionDetailView.as_view(), name="connection-detail"),
    path("connections/<int:connection_id>/test/", tenancy.ConnectionTestView.as_view(), name="connection-test"),
    path("notebooks/", catalog.NotebookListView.as_view(), name="notebook-list"),
    path("notebooks/<int:notebook_id>/", catalog.NotebookDetailView.as_view(), name="notebook-detail"),
    path("notebooks/<int:notebook_id>/preview/", catalog.NotebookPreviewView.as_view(), name="notebook-preview"),
    path("notebooks/<int:notebook_id>/diff/", catalog.NotebookDiffView.as_view(), name="notebook-diff"),
    path("workflows/", workflows.WorkflowListView.as_view(), name="workflow-list"),
    path("workflows/<int:workflow_id>/", workflows.WorkflowDetailView.as_view(), name="workflow-detail"),
    path("workflows/<int:workflow_id>/versions/", workflows.WorkflowVersionListView.as_view(), name="workflow-versions"),
    path("workflows/<int:workflow_id>/validate/", workflows.WorkflowValidateView.as_view(), name="workflow-validate"),
    path("workflows/<int:workflow_id>/dag/", dags.WorkflowDagView.as_view(), name="workflow-dag"),
    path("workflows/<int:workflow_id>/deployment/", deployments.DeploymentView.as_view(), name="workflow-deployment"),
    path("workflows/<int:workflow_id>/runs/", runs.RunListView.as_view(), name="run-list"),
    path("workflows/<int:workflow_id>/backfills/", schedules.BackfillListView.as_view(), name="backfill-list"),
    path("workflows/<int:workflow_id>/backfills/<int:backfill_id>/", schedules.BackfillDetailView.as_view(),
         name="backfill-detail"),
    path("workflows/<int:workflow_id>/backfills/<int:backfill_id>/cancel/", schedules.BackfillCancelView.as_view(),
         name="backfill-cancel"),
    path("workflows/<int:workflow_id>/runs/plan/", runs.RunPlanView.as_view(), name="run-plan"),
    path("runs/", runs_history.TenantRunListView.as_view(), name="tenant-run-list"),
    path("runs/<int:run_id>/", runs.RunDetailView.as_view(), name="run-detail"),
    path("runs/<int:run_id>/compare/", runs_history.RunCompareView.as_view(), name="run-compare"),
    path("runs/<int:run_id>/nodes/<str:node>/notebook/diff/", runs_history.NodeNotebookDiffView.as_view(),
         name="node-notebook-diff"),
    path("runs/<int:run_id>/nodes/<str:node>/log/", runs_history.NodeLogView.as_view(), name="node-log"),
    path("runs/<int:run_id>/cancel/", runs.RunCancelView.as_view(), name="run-cancel"),
    path("runs/<int:run_id>/repair/", runs.RunRepairView.as_view(), name="run-repair"),
    path("runs/<int:run_id>/nodes/<str:node>/notebook/", runs.NodeNotebookView.as_view(), name="node-notebook"),
    path("runs/<int:run_id>/nodes/<str:node>/items/", runs.NodeItemsView.as_view(), name="node-items"),
    path("runs/<int:run_id>/nodes/<str:node>/items/histogram/", runs.NodeItemsHistogramView.as_view(),
         name="node-items-histogram"),
    path("runs/<int:run_id>/nodes/<str:node>/retry-failed/", runs.NodeRetryFailedItemsView.as_view(),
         name="node-retry-failed"),
    path("audit/", audit.TenantAuditView.as_view(), name="tenant-audit"),
    path("channels/", alerts.ChannelListView.as_view(), name="channel-list"),
    path("channels/<int:channel_id>/", alerts.ChannelDetailView.as_view(), name="channel-detail"),
    path("channels/<int:channel_id>/test/", alerts.ChannelTestView.as_view(), name="channel-test"),
    path("deliveries/", alerts.DeliveryListView.as_view(), name="delivery-list"),
]

api = [
    path("auth/token/", accounts.TokenLoginView.as_view(), name="auth-token"),
    path("auth/tokens/", accounts.TokenListView.as_view(), name="token-list"),
    path("auth/tokens/<int:token_id>/", accounts.TokenDetailView.as_view(), name="token-detail"),
    *web.api,
    path("tenants/", tenancy.TenantListView.as_view(), name="tenant-list"),
    path("connection-kinds/", tenancy.ConnectionKindListView.as_view(), name="connection-kinds"),
    path("engines/", runs.EngineListView.as_view(), name="engine-list"),
    path("invitations/preview/", tenancy.InvitationPreviewView.as_view(), name="invitation-preview"),
    path("invitations/accept/", tenancy.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("invitations/signup/", tenancy.InvitationSignupView.as_view(), name="invitation-signup"),
    path("audit/", audit.PlatformAuditView.as_view(), name="audit"),
    path("platform/tenants/", platform.PlatformTenantListView.as_view(), name="platform-tenant-list"),
    path("platform/tenants/<slug:slug>/", platform.PlatformTenantDetailView.as_view(), name="platform-tenant-detail"),
    path("platform/usage/", platform.PlatformUsageView.as_view(), name="platform-usage"),
    path("tenants/<slug:tenant>/", include(tenant_api)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api)),
    path("", include(web.urlpatterns)),  # the SPA last: it answers every other path
]
