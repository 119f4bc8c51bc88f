"""The emulator's answers where moto lacks an API (scripts/emulator_gaps.py), through
boto3 clients at the emulator's server, so botocore parses each answer by the real
API model. In a process of its own: the gaps patch moto's classes."""

from __future__ import annotations

import json
import subprocess
import sys

from scripts import awstools

CHECKS = r"""
import json, boto3
from scripts.emulator import Emulator
from scripts import bootstrap, site_setup

emulator = Emulator(port=0, fill_gaps=True)
emulator.start()
def client(name, region="us-west-2"):
    return boto3.client(name, region_name=region, endpoint_url=emulator.url,
                        aws_access_key_id="x", aws_secret_access_key="x")
out = {}
cloudfront = client("cloudfront", "us-east-1")
made = cloudfront.create_response_headers_policy(
    ResponseHeadersPolicyConfig=site_setup.security_headers())["ResponseHeadersPolicy"]
listed = cloudfront.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]
got = cloudfront.get_response_headers_policy(Id=made["Id"])["ResponseHeadersPolicy"]
out["policy_round_trip"] = got["ResponseHeadersPolicyConfig"] == site_setup.security_headers()
out["listed"] = [i["ResponseHeadersPolicy"]["Id"] for i in listed["Items"]] == [made["Id"]]

swagger = {"swagger": "2.0", "info": {"title": "shipcaptaincrew", "version": "1.0"},
  "paths": {"/api/health": {"get": {"responses": {"200": {"description": "ok"}},
    "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST",
      "uri": "arn:aws:apigateway:us-west-2:lambda:path/2015-03-31/functions/x/invocations"}}}}}
apigateway = client("apigateway")
api = apigateway.import_rest_api(body=json.dumps(swagger).encode())
paths = {r["path"] for r in apigateway.get_resources(restApiId=api["id"])["items"]}
out["imported"] = {"/api", "/api/health"} <= paths

ses = client("sesv2")
before = ses.get_account()["ProductionAccessEnabled"]
ses.put_account_details(ProductionAccessEnabled=True, MailType="TRANSACTIONAL",
    WebsiteURL="https://crew.example.org", UseCaseDescription="receipts")
out["ses"] = [before, ses.get_account()["ProductionAccessEnabled"]]

s3 = client("s3")
s3.create_bucket(Bucket="site", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
s3.put_object(Bucket="site", Key="_releases/staging.json", Body=b"{}")
deny = {"Version": "2012-10-17", "Statement": [{"Sid": "ProdNeverServesStaging",
  "Effect": "Deny", "Principal": {"Service": "cloudfront.amazonaws.com"},
  "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/_releases/*",
  "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::1:distribution/E1"}}}]}
s3.put_bucket_policy(Bucket="site", Policy=json.dumps(deny))
out["operator_reads"] = s3.get_object(Bucket="site", Key="_releases/staging.json")["Body"].read() == b"{}"
print(json.dumps(out))
"""


def test_the_emulator_answers_what_moto_lacks_in_the_real_apis_shapes() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECKS],
        cwd=awstools.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {
        "policy_round_trip": True,
        "listed": True,
        "imported": True,
        "ses": [False, True],
        "operator_reads": True,
    }
