"""Glue's ``UpdateJob`` on the embedded endpoint, which moto's server does not implement: the definition is
overwritten whole as AWS documents it, an unknown job is Glue's own error, a request without its fields is
refused, and every other request goes to moto untouched."""

import io
import json

import pytest

from productizar.local.glue_update import TARGET, GlueUpdateJob
from tests.support.dynamo import clients
from tests.support.glue import STACK_JOB


@pytest.mark.usefixtures("embedded")
def test_the_embedded_update_job_overwrites_the_definition_as_aws_documents():
    """The control for the upload test of ``tests/cloud/test_glue.py``: an UpdateJob that gives back only the
    role and the command loses every other setting, so keeping them is the updater's doing; an unknown job
    is Glue's own error."""
    glue_client = clients()("glue")
    glue_client.create_job(Name="sobrescrita", **STACK_JOB)
    glue_client.update_job(
        JobName="sobrescrita",
        JobUpdate={"Role": STACK_JOB["Role"], "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/n.py"}},
    )
    job = glue_client.get_job(JobName="sobrescrita")["Job"]
    assert job["Command"] == {"Name": "glueetl", "ScriptLocation": "s3://b/n.py"}
    assert (job.get("Description"), job.get("Connections"), job.get("WorkerType"), job["DefaultArguments"]) == (
        None,
        None,
        None,
        {},
    )
    with pytest.raises(glue_client.exceptions.EntityNotFoundException, match="Job no-existe not found"):
        glue_client.update_job(JobName="no-existe", JobUpdate={"Role": "r", "Command": {"Name": "glueetl"}})


def test_a_request_without_its_fields_is_refused_and_every_other_request_goes_to_moto():
    passed = []
    app = GlueUpdateJob(lambda environ, start_response: passed.append(environ["HTTP_X_AMZ_TARGET"]) or [b"moto"])
    statuses = []
    assert app({"HTTP_X_AMZ_TARGET": "AWSGlue.GetJob"}, lambda *a: statuses.append(a[0])) == [b"moto"]
    body = json.dumps({"JobName": "x"}).encode()
    environ = {"HTTP_X_AMZ_TARGET": TARGET, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    answer = json.loads(b"".join(app(environ, lambda *a: statuses.append(a[0]))))
    assert answer["__type"] == "InvalidInputException" and passed == ["AWSGlue.GetJob"]
    assert statuses == ["400 Bad Request"]
