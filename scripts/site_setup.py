#!/usr/bin/env python3
"""The site in front of a stage: bucket, CloudFront distribution, certificate and DNS.

scripts/bootstrap.py plans these with the table and the secrets, so one run from an
empty account makes everything and a second run changes nothing:

- the site bucket (private, versioned; created in any region) and a log bucket for
  CloudFront's access logs (ACLs on, as CloudFront's standard logging needs);
- an origin access control: CloudFront signs its reads of the bucket;
- a response headers policy: HSTS, X-Frame-Options DENY and CSP `frame-ancestors
  'none'`, nosniff, a strict referrer policy;
- the stage's distribution (found again by its comment): the bucket's slot as the
  default origin, access logging, the headers policy, the domain and its certificate
  once issued, and, once the code is deployed, the routing table with its API origin;
- the bucket policy: each distribution may read its own slot only, and the prod
  distribution may never read the staging slot (so /_staging/* answers 403 on prod);
- with a domain: the ACM certificate in us-east-1 (CloudFront's region) and its DNS
  records, written to Route 53 when the zone is in the account, else printed.

Each plan_* function reads what exists and adds to the plan what is missing; the
closures it adds run only after the operator said yes. It has no command of its own:
`scripts/bootstrap.py --stage <stage> [--dry-run]` runs it.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from chalicelib.web import edge
from scripts import awstools, configure_cloudfront, stage_settings
from scripts.awstools import UserError

SITE_ORIGIN_ID = "site-bucket"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
HEADERS_POLICY_NAME = "shipcaptaincrew-security-headers"
# Route 53's hosted zone for every CloudFront alias target (the same in every account).
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"
CERTIFICATE_REGION = "us-east-1"
LOG_DAYS = 90


def security_headers(name: str = HEADERS_POLICY_NAME) -> dict[str, Any]:
    """The response headers policy config every behaviour of the site answers with.

    Built from chalicelib.web.edge.SECURITY_HEADERS, which the local edge applies too.
    The referrer policy does not override: the waiver page's own no-referrer stands."""
    frame, frame_override = edge.security_header("X-Frame-Options")
    _, sniff_override = edge.security_header("X-Content-Type-Options")
    referrer, referrer_override = edge.security_header("Referrer-Policy")
    csp, csp_override = edge.security_header("Content-Security-Policy")
    return {
        "Name": name,
        "Comment": "Ship Captain Crew: HSTS, no framing, no sniffing, strict referrer",
        "SecurityHeadersConfig": {
            "StrictTransportSecurity": {
                "Override": True,
                "AccessControlMaxAgeSec": 63072000,
                "IncludeSubdomains": False,
                "Preload": False,
            },
            "FrameOptions": {"Override": frame_override, "FrameOption": frame},
            "ContentTypeOptions": {"Override": sniff_override},
            # The app's own referrer policy (the waiver page's no-referrer) wins.
            "ReferrerPolicy": {"Override": referrer_override, "ReferrerPolicy": referrer},
            # The app's own CSP (the waiver page has one) wins; other answers get this.
            "ContentSecurityPolicy": {
                "Override": csp_override,
                "ContentSecurityPolicy": csp,
            },
        },
    }


@dataclass
class Site:
    """What planning the site found, and what applying it made (ids filled in as it goes)."""

    settings: stage_settings.Settings
    stage: awstools.Stage
    clients: Any
    domain: str
    made: dict[str, str] = field(default_factory=dict)
    report: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return self.clients(service)


# --- buckets ---------------------------------------------------------------------------


def _bucket_state(s3: Any, name: str) -> bool:
    try:
        s3.head_bucket(Bucket=name)
    except Exception as exc:
        code = awstools.error_code(exc)
        if code in ("404", "NoSuchBucket", "NotFound"):
            return False
        if code in ("403", "AccessDenied", "Forbidden"):
            raise UserError(
                f"bucket {name} belongs to another account (bucket names are global): "
                "choose another site_bucket in deploy/<stage>.toml"
            ) from None
        raise
    return True


def _create_bucket(s3: Any, name: str, region: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": name}
    # us-east-1 is S3's default region and refuses a LocationConstraint naming itself.
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)


_PRIVATE = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def _is_private(s3: Any, name: str) -> bool:
    try:
        found = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    except Exception as exc:
        if awstools.error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
            return False
        raise
    return all(found.get(k) for k in _PRIVATE)


def plan_buckets(plan: Any, site: Site) -> None:
    s3 = site.client("s3")
    bucket, logs, region = site.settings.site_bucket, site.settings.log_bucket, site.settings.region

    def make_site_bucket() -> None:
        _create_bucket(s3, bucket, region)
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=_PRIVATE)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        site.report.append(f"bucket {bucket} ({region}, private, versioned)")

    if not _bucket_state(s3, bucket):
        plan.todo(f"create bucket {bucket} in {region} (private, versioned)", make_site_bucket)
    else:
        plan.ok(f"bucket {bucket} exists")
        if not _is_private(s3, bucket):
            plan.todo(
                f"block public access to {bucket}",
                lambda: s3.put_public_access_block(
                    Bucket=bucket, PublicAccessBlockConfiguration=_PRIVATE
                ),
            )
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            plan.todo(
                f"turn on versioning of {bucket} (an older page can be restored)",
                lambda: s3.put_bucket_versioning(
                    Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
                ),
            )

    def make_log_bucket() -> None:
        _create_bucket(s3, logs, region)
        s3.put_public_access_block(Bucket=logs, PublicAccessBlockConfiguration=_PRIVATE)
        # CloudFront's standard logging writes through an ACL grant: ACLs must be on.
        s3.put_bucket_ownership_controls(
            Bucket=logs, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
        )
        s3.put_bucket_lifecycle_configuration(
            Bucket=logs,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "expire-access-logs",
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "Expiration": {"Days": LOG_DAYS},
                    }
                ]
            },
        )
        site.report.append(f"bucket {logs} (access logs, kept {LOG_DAYS} days)")

    if not _bucket_state(s3, logs):
        plan.todo(f"create bucket {logs} for access logs (kept {LOG_DAYS} days)", make_log_bucket)
    else:
        plan.ok(f"log bucket {logs} exists")


# --- CloudFront pieces -----------------------------------------------------------------


def plan_origin_access(plan: Any, site: Site) -> None:
    cloudfront = site.client("cloudfront")
    name = f"{site.settings.site_bucket}-oac"[:64]
    listed = cloudfront.list_origin_access_controls().get("OriginAccessControlList") or {}
    found = next((o for o in listed.get("Items") or [] if o["Name"] == name), None)
    if found:
        site.made["oac"] = found["Id"]
        plan.ok(f"origin access control {name} exists ({found['Id']})")
        return

    def create() -> None:
        made = cloudfront.create_origin_access_control(
            OriginAccessControlConfig={
                "Name": name,
                "Description": "CloudFront signs its reads of the Ship Captain Crew site bucket",
                "SigningProtocol": "sigv4",
                "SigningBehavior": "always",
                "OriginAccessControlOriginType": "s3",
            }
        )
        site.made["oac"] = made["OriginAccessControl"]["Id"]
        site.report.append(f"origin access control {name} ({site.made['oac']})")

    plan.todo(f"create origin access control {name} (CloudFront signs its bucket reads)", create)


def plan_headers_policy(plan: Any, site: Site) -> None:
    cloudfront = site.client("cloudfront")
    listed = cloudfront.list_response_headers_policies(Type="custom")
    items = (listed.get("ResponseHeadersPolicyList") or {}).get("Items") or []
    wanted = security_headers()
    for item in items:
        policy = item["ResponseHeadersPolicy"]
        config = policy["ResponseHeadersPolicyConfig"]
        if config["Name"] != HEADERS_POLICY_NAME:
            continue
        site.made["headers"] = policy["Id"]
        if configure_cloudfront.covers(config, wanted):
            plan.ok(f"response headers policy {HEADERS_POLICY_NAME} exists ({policy['Id']})")
            return

        def update(policy_id: str = policy["Id"]) -> None:
            etag = cloudfront.get_response_headers_policy(Id=policy_id)["ETag"]
            cloudfront.update_response_headers_policy(
                Id=policy_id, IfMatch=etag, ResponseHeadersPolicyConfig=wanted
            )

        plan.todo(f"bring response headers policy {HEADERS_POLICY_NAME} up to date", update)
        return

    def create() -> None:
        made = cloudfront.create_response_headers_policy(ResponseHeadersPolicyConfig=wanted)
        site.made["headers"] = made["ResponseHeadersPolicy"]["Id"]
        site.report.append(
            f"response headers policy {HEADERS_POLICY_NAME} ({site.made['headers']})"
        )

    plan.todo(
        f"create response headers policy {HEADERS_POLICY_NAME} (HSTS, frame-ancestors 'none', "
        "nosniff, referrer policy)",
        create,
    )


# --- certificate and DNS -----------------------------------------------------------------


def _certificate(acm: Any, domain: str) -> dict[str, Any] | None:
    paginator = acm.get_paginator("list_certificates")
    for page in paginator.paginate(CertificateStatuses=["PENDING_VALIDATION", "ISSUED"]):
        for summary in page.get("CertificateSummaryList", []):
            if summary["DomainName"] == domain:
                return acm.describe_certificate(CertificateArn=summary["CertificateArn"])[
                    "Certificate"
                ]
    return None


def plan_certificate(plan: Any, site: Site) -> None:
    if not site.domain:
        site.notes.append(
            "no domain in deploy/<stage>.toml: patrons get a *.cloudfront.net waiver link, "
            "which looks like phishing. Set `domain` and run bootstrap again"
        )
        return
    acm = site.client(f"acm@{CERTIFICATE_REGION}")
    found = _certificate(acm, site.domain)
    if found:
        site.made["certificate"] = found["CertificateArn"]
        site.made["certificate_status"] = found["Status"]
        plan.ok(f"certificate for {site.domain} in {CERTIFICATE_REGION}: {found['Status']}")
        return

    def request() -> None:
        arn = acm.request_certificate(
            DomainName=site.domain,
            ValidationMethod="DNS",
            IdempotencyToken=f"scc{site.settings.stage}"[:32],
        )["CertificateArn"]
        site.made["certificate"] = arn
        site.made["certificate_status"] = "PENDING_VALIDATION"
        site.report.append(f"certificate for {site.domain} ({arn}), pending DNS validation")

    plan.todo(
        f"request a certificate for {site.domain} in {CERTIFICATE_REGION} (DNS validation)", request
    )


def _zone_for(route53: Any, domain: str) -> dict[str, Any] | None:
    """The account's public hosted zone that holds `domain`, the most specific one."""
    best = None
    for page in route53.get_paginator("list_hosted_zones").paginate():
        for zone in page.get("HostedZones", []):
            if (zone.get("Config") or {}).get("PrivateZone"):
                continue
            name = zone["Name"].rstrip(".")
            if (domain == name or domain.endswith("." + name)) and (
                best is None or len(name) > len(best["Name"].rstrip("."))
            ):
                best = zone
    return best


def dns_records(site: Site) -> list[dict[str, Any]]:
    """The records the domain needs now: certificate validation, then the site itself."""
    records: list[dict[str, Any]] = []
    arn = site.made.get("certificate")
    if arn:
        described = site.client(f"acm@{CERTIFICATE_REGION}").describe_certificate(
            CertificateArn=arn
        )
        for option in described["Certificate"].get("DomainValidationOptions", []):
            record = option.get("ResourceRecord")
            if record:
                records.append(
                    {"Name": record["Name"], "Type": record["Type"], "Value": record["Value"]}
                )
    target = site.made.get("distribution_domain")
    if target:
        records.append({"Name": f"{site.domain}.", "Type": "ALIAS", "Value": target})
    return records


def _has_record(route53: Any, zone_id: str, record: dict[str, Any]) -> bool:
    kinds = ("A",) if record["Type"] == "ALIAS" else (record["Type"],)
    listed = route53.list_resource_record_sets(
        HostedZoneId=zone_id, StartRecordName=record["Name"], StartRecordType=kinds[0]
    )
    for found in listed.get("ResourceRecordSets", []):
        if found["Name"].rstrip(".") != record["Name"].rstrip(".") or found["Type"] != kinds[0]:
            continue
        if record["Type"] == "ALIAS":
            return (found.get("AliasTarget") or {}).get("DNSName", "").rstrip(".") == record[
                "Value"
            ].rstrip(".")
        values = [r["Value"] for r in found.get("ResourceRecords", [])]
        return record["Value"] in values
    return False


def _upsert(route53: Any, zone_id: str, records: list[dict[str, Any]]) -> None:
    changes = []
    for record in records:
        if record["Type"] == "ALIAS":
            for kind in ("A", "AAAA"):
                changes.append(
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": record["Name"],
                            "Type": kind,
                            "AliasTarget": {
                                "HostedZoneId": CLOUDFRONT_ZONE_ID,
                                "DNSName": record["Value"],
                                "EvaluateTargetHealth": False,
                            },
                        },
                    }
                )
        else:
            changes.append(
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": record["Name"],
                        "Type": record["Type"],
                        "TTL": 300,
                        "ResourceRecords": [{"Value": record["Value"]}],
                    },
                }
            )
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Comment": "Ship Captain Crew bootstrap", "Changes": changes},
    )


def plan_dns(plan: Any, site: Site) -> None:
    """Route 53 records when the zone is in the account; else what to add, at the end."""
    if not site.domain:
        return
    route53 = site.client("route53")
    zone = _zone_for(route53, site.domain)
    if zone is None:
        site.made["dns"] = "manual"
        return
    zone_id = zone["Id"].rsplit("/", 1)[-1]
    site.made["dns"] = zone["Name"]
    known = "certificate" in site.made and "distribution_domain" in site.made
    if known and all(_has_record(route53, zone_id, r) for r in dns_records(site)):
        plan.ok(f"Route 53 zone {zone['Name']} has the site's records")
        return

    def write() -> None:
        records = dns_records(site)
        if records:
            _upsert(route53, zone_id, records)
            site.report.append(
                f"Route 53 records in {zone['Name']}: " + ", ".join(r["Name"] for r in records)
            )

    plan.todo(
        f"write the certificate's validation record and {site.domain}'s alias in Route 53 zone "
        f"{zone['Name']}",
        write,
    )


def dns_notes(site: Site) -> list[str]:
    """What to add at the DNS provider when the zone is not in Route 53."""
    if not site.domain or site.made.get("dns") != "manual":
        return []
    notes = []
    for record in dns_records(site):
        kind = "CNAME" if record["Type"] == "ALIAS" else record["Type"]
        extra = (
            " (an apex name needs your provider's ALIAS/ANAME record instead)"
            if record["Type"] == "ALIAS"
            else " (certificate validation: usually issued 5-30 minutes after the record is visible)"
        )
        notes.append(f"add DNS record {record['Name']} {kind} {record['Value']}{extra}")
    return notes


# --- the distribution --------------------------------------------------------------------


def _origin_path(settings: stage_settings.Settings) -> str:
    prefix = awstools.SLOT_PREFIXES[settings.spa_slot].rstrip("/")
    return f"/{prefix}" if prefix else ""


def site_origin(site: Site) -> dict[str, Any]:
    s = site.settings
    return {
        "Id": SITE_ORIGIN_ID,
        "DomainName": f"{s.site_bucket}.s3.{s.region}.amazonaws.com",
        "OriginPath": _origin_path(s),
        "CustomHeaders": {"Quantity": 0},
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": site.made.get("oac", ""),
        "ConnectionAttempts": 3,
        "ConnectionTimeout": 10,
        "OriginShield": {"Enabled": False},
    }


def _site_musts(site: Site) -> dict[str, Any]:
    """The parts of the distribution bootstrap insists on; anything else is the operator's."""
    s = site.settings
    musts: dict[str, Any] = {
        "Comment": stage_settings.distribution_comment(s),
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "Logging": {
            "Enabled": True,
            "IncludeCookies": False,
            "Bucket": f"{s.log_bucket}.s3.amazonaws.com",
            "Prefix": s.log_prefix,
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": SITE_ORIGIN_ID,
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": CACHING_OPTIMIZED,
            "ResponseHeadersPolicyId": site.made.get("headers", ""),
        },
    }
    if site.domain and site.made.get("certificate_status") == "ISSUED":
        musts["Aliases"] = {"Quantity": 1, "Items": [site.domain]}
        musts["ViewerCertificate"] = {
            "ACMCertificateArn": site.made["certificate"],
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2021",
        }
    return musts


def _origin_musts(site: Site) -> dict[str, Any]:
    origin = site_origin(site)
    return {k: origin[k] for k in ("Id", "DomainName", "OriginPath", "OriginAccessControlId")}


# Settings replaced whole: a merged ViewerCertificate could name an ACM certificate and
# the default one at once, which CloudFront refuses.
_REPLACED_WHOLE = ("Aliases", "ViewerCertificate")


def _merge(base: dict[str, Any], musts: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in musts.items():
        if (
            isinstance(value, dict)
            and isinstance(out.get(key), dict)
            and key not in _REPLACED_WHOLE
        ):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _skeleton(site: Site) -> dict[str, Any]:
    return {
        "CallerReference": f"{stage_settings.distribution_comment(site.settings)}-{time.time_ns()}",
        "Aliases": {"Quantity": 0},
        "Origins": {"Quantity": 1, "Items": [site_origin(site)]},
        "DefaultCacheBehavior": {
            "TargetOriginId": SITE_ORIGIN_ID,
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {
                "Quantity": 2,
                "Items": ["GET", "HEAD"],
                "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
            },
            "Compress": True,
            "CachePolicyId": CACHING_OPTIMIZED,
        },
        "CacheBehaviors": {"Quantity": 0},
        # No custom error pages: they would apply to the API's 401s and 404s too.
        "CustomErrorResponses": {"Quantity": 0},
        "Comment": "",
        "PriceClass": "PriceClass_100",
        "Enabled": True,
        "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
    }


def wanted_distribution(
    site: Site, current: dict[str, Any] | None, api: tuple[str, str] | None, verify: str
) -> tuple[dict[str, Any], list[str]]:
    """(config, changes): the site's musts and, once the API exists, the routing table."""
    base = copy.deepcopy(current) if current else _skeleton(site)
    changes: list[str] = []
    musts = _site_musts(site)
    if current is None or not configure_cloudfront.covers(current, musts):
        changes.append("site settings (logging, headers policy, root object, domain)")
    config = _merge(base, musts)
    for key in configure_cloudfront.LEGACY_CACHE_KEYS:
        config["DefaultCacheBehavior"].pop(key, None)
    origins = config["Origins"]["Items"]
    found = next((o for o in origins if o["Id"] == SITE_ORIGIN_ID), None)
    if found is None:
        origins.insert(0, site_origin(site))
        changes.append(f"+ origin {SITE_ORIGIN_ID}")
    elif not configure_cloudfront.covers(found, _origin_musts(site)):
        origins[origins.index(found)] = _merge(found, _origin_musts(site))
        changes.append(f"~ origin {SITE_ORIGIN_ID}")
    config["Origins"]["Quantity"] = len(origins)
    if api is not None:
        config, routed, _ = configure_cloudfront.wanted_config(config, api[0], api[1], verify)
        changes += routed
    return config, changes


def _deployed_api(site: Site) -> tuple[str, str] | None:
    try:
        url = awstools.deployed_api_url(site.stage)
    except UserError:
        return None
    return configure_cloudfront.api_origin_target(url, site.stage.api_gateway_stage)


def plan_distribution(plan: Any, site: Site) -> None:
    cloudfront = site.client("cloudfront")
    summary = stage_settings.find_distribution(cloudfront, site.settings)
    if summary is None and site.stage.distribution_id:
        # One made by hand before bootstrap did this: adopt it (the update sets its comment).
        try:
            summary = cloudfront.get_distribution(Id=site.stage.distribution_id)["Distribution"]
        except Exception as exc:
            if awstools.error_code(exc) != "NoSuchDistribution":
                raise
    api = _deployed_api(site)
    secret_id = site.stage.setting("ORIGIN_VERIFY_SECRET_ID")

    def verify() -> str:
        if not secret_id or api is None:
            return ""
        return configure_cloudfront.origin_verify_secret(site.client("secretsmanager"), site.stage)

    if summary is None:

        def create() -> None:
            config, _ = wanted_distribution(site, None, api, verify())
            made = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
            _remember(site, made)
            site.report.append(
                f"distribution {made['Id']} ({made['DomainName']}): CloudFront deploys it "
                "in 5-15 minutes"
            )

        what = "with the routing table" if api else "(routing table once the code is deployed)"
        plan.todo(
            f"create distribution {stage_settings.distribution_comment(site.settings)} {what}",
            create,
        )
        return

    _remember(site, summary)
    answer = cloudfront.get_distribution_config(Id=summary["Id"])
    current = answer["DistributionConfig"]
    # Read the secret now only when it already exists; a new one reaches CloudFront on
    # the next run (or deploy's configure_cloudfront step).
    try:
        value = verify()
    except UserError:
        value = configure_cloudfront.origin_verify_of(current) or ""
    _, changes = wanted_distribution(site, current, api, value)
    if not changes:
        plan.ok(f"distribution {summary['Id']} ({summary['DomainName']}) is as it should be")
        return

    def update() -> None:
        fresh = cloudfront.get_distribution_config(Id=summary["Id"])
        config, _ = wanted_distribution(site, fresh["DistributionConfig"], api, verify())
        cloudfront.update_distribution(
            Id=summary["Id"], IfMatch=fresh["ETag"], DistributionConfig=config
        )
        site.report.append(f"distribution {summary['Id']} updated: {'; '.join(changes)}")

    plan.todo(f"update distribution {summary['Id']}: {'; '.join(changes)}", update)


def _remember(site: Site, distribution: dict[str, Any]) -> None:
    site.made["distribution"] = distribution["Id"]
    site.made["distribution_arn"] = distribution["ARN"]
    site.made["distribution_domain"] = distribution["DomainName"]


# --- the bucket policy ---------------------------------------------------------------------


def stage_statements(settings: stage_settings.Settings, distribution_arn: str) -> list[dict]:
    """This stage's statements in the shared bucket policy.

    Each distribution reads its own slot only. The prod distribution is denied the staging
    slot outright: an unreviewed page must never run on the prod origin with prod logins.
    """
    bucket = f"arn:aws:s3:::{settings.site_bucket}"
    label = settings.stage.capitalize()
    reader = {"Service": "cloudfront.amazonaws.com"}
    condition = {"StringEquals": {"AWS:SourceArn": distribution_arn}}
    if settings.spa_slot == "staging":
        return [
            tls_only_statement(bucket),
            {
                "Sid": f"CloudFrontReads{label}",
                "Effect": "Allow",
                "Principal": reader,
                "Action": "s3:GetObject",
                "Resource": f"{bucket}/{awstools.STAGING_PREFIX}*",
                "Condition": condition,
            },
        ]
    return [
        tls_only_statement(bucket),
        {
            "Sid": f"CloudFrontReads{label}",
            "Effect": "Allow",
            "Principal": reader,
            "Action": "s3:GetObject",
            "Resource": f"{bucket}/*",
            "Condition": condition,
        },
        {
            "Sid": f"{label}NeverServesStaging",
            "Effect": "Deny",
            "Principal": reader,
            "Action": "s3:GetObject",
            "Resource": [
                f"{bucket}/{awstools.STAGING_PREFIX}*",
                f"{bucket}/{awstools.RELEASES_PREFIX}*",
            ],
            "Condition": condition,
        },
    ]


def tls_only_statement(bucket_arn: str) -> dict[str, Any]:
    """Nobody (CloudFront, the deploy scripts, a leaked key) reaches the bucket over plain
    HTTP. One Sid for the whole bucket: each stage puts the same statement."""
    return {
        "Sid": "EveryRequestOverTls",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def merged_policy(current: dict[str, Any] | None, ours: list[dict]) -> dict[str, Any]:
    """The bucket policy with this stage's statements replaced; other stages' kept."""
    label = {statement["Sid"] for statement in ours}
    kept = [s for s in (current or {}).get("Statement", []) if s.get("Sid") not in label]
    return {"Version": "2012-10-17", "Statement": kept + ours}


def plan_bucket_policy(plan: Any, site: Site) -> None:
    s3 = site.client("s3")
    bucket = site.settings.site_bucket
    try:
        current = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except Exception as exc:
        if awstools.error_code(exc) not in ("NoSuchBucketPolicy", "NoSuchBucket"):
            raise
        current = None
    arn = site.made.get("distribution_arn")
    if arn and current:
        ours = stage_statements(site.settings, arn)
        have = {s.get("Sid"): s for s in current.get("Statement", [])}
        if all(have.get(s["Sid"]) == s for s in ours):
            plan.ok(
                f"bucket policy of {bucket} lets the {site.settings.stage} distribution read its slot"
            )
            return

    def put() -> None:
        ours = stage_statements(site.settings, site.made["distribution_arn"])
        try:
            now = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except Exception as exc:
            if awstools.error_code(exc) != "NoSuchBucketPolicy":
                raise
            now = None
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(merged_policy(now, ours)))
        site.report.append(
            f"bucket policy of {bucket}: the {site.settings.stage} distribution reads its slot"
        )

    plan.todo(
        f"let the {site.settings.stage} distribution read its slot of {bucket} (bucket policy; "
        "other stages' statements kept)",
        put,
    )


def plan_site(plan: Any, site: Site) -> None:
    """Everything in front of the stage, in the order it has to be made."""
    plan_buckets(plan, site)
    plan_origin_access(plan, site)
    plan_headers_policy(plan, site)
    plan_certificate(plan, site)
    plan_distribution(plan, site)
    plan_bucket_policy(plan, site)
    plan_dns(plan, site)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="The site in front of a stage (bucket, CloudFront distribution, "
        "certificate, DNS). Part of bootstrap: it has no command of its own.",
        epilog="Run `scripts/bootstrap.py --stage <stage> --dry-run` to see its plan, "
        "and without --dry-run to make it.",
    )
    parser.parse_args(argv)
    awstools.say(
        "site_setup runs inside bootstrap: `scripts/bootstrap.py --stage <stage> --dry-run`",
        sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
