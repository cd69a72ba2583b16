"""The one exception handler (loom.errors): each domain error becomes its status and body in any
view, without the view catching it. The endpoints' own tests check the errors they raise."""
import pytest
from django.core.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from catalog.services import NotebookInUse
from deployments.client import AirflowError, AirflowUnavailable
from deployments.services import DeploymentFailed
from runs.engines import EngineUnavailable
from runs.services import RunNotRepairable, RunParametersInvalid
from workflows.graph import GraphError
from workflows.models import WorkflowVersion
from workflows.services import WorkflowInvalid


def answer(error: Exception):
    class Raises(APIView):
        authentication_classes = []
        permission_classes = [AllowAny]

        def get(self, request):
            raise error

    response = Raises.as_view()(APIRequestFactory().get("/"))
    return response.status_code, response.data


@pytest.mark.parametrize("error,status,body", [
    (WorkflowInvalid([GraphError("a", "notebook", "No notebook 'x'.")]), 400,
     {"detail": "The workflow has 1 problem(s); fix them first.",
      "errors": [{"node": "a", "field": "notebook", "message": "No notebook 'x'."}]}),
    (RunParametersInvalid([{"node": None, "field": "parameters.n", "message": "'n' is not a parameter."}]), 400,
     {"detail": "Run parameters are invalid: 'n' is not a parameter.",
      "errors": [{"node": None, "field": "parameters.n", "message": "'n' is not a parameter."}]}),
    (NotebookInUse(["w1", "w2"]), 409, {"detail": "The notebook is used by workflows: w1, w2.", "workflows": ["w1", "w2"]}),
    (RunNotRepairable("Only a failed run can be repaired."), 409, {"detail": "Only a failed run can be repaired."}),
    (EngineUnavailable("Unknown engine 'x'."), 503, {"detail": "Unknown engine 'x'."}),
    (AirflowUnavailable("Airflow is unreachable."), 503, {"detail": "Airflow is unreachable."}),
    (AirflowError(500, "boom", "trigger"), 502, {"detail": "Airflow answered 500 to trigger: boom"}),
    (DeploymentFailed("Airflow could not import it."), 502, {"detail": "Airflow could not import it."}),
    (WorkflowVersion.DoesNotExist("Workflow 'w' has no version 9."), 404, {"detail": "Workflow 'w' has no version 9."}),
    (ValidationError({"name": ["Too long."]}), 400, {"name": ["Too long."]}),
])
def test_domain_errors_answer_with_their_status_and_body(error, status, body):
    assert answer(error) == (status, body)


def test_other_errors_keep_drf_behaviour():
    with pytest.raises(KeyError):
        answer(KeyError("a bug is a 500, not an answer"))
